-- How many open complaints escalation_open.sql pages through with the same filters.
select count(*) as complaints
from marts.open_complaints as c
where in_scope(c.office_code)
    and ($city_code = '' or c.city_code = $city_code)
    and ($office_code = '' or c.office_code = $office_code)
    and ($level < 0 or c.escalation_level = $level)
    and c.received_month between $first_month and $last_month
