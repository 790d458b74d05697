-- The escalation board's head: open complaints in scope per level, holder and age bucket, with
-- the same filters as escalation_open.sql.
select c.escalation_level, c.holder_role, c.age_bucket, c.age_order, count(*) as complaints
from marts.open_complaints as c
where in_scope(c.office_code)
    and ($city_code = '' or c.city_code = $city_code)
    and ($office_code = '' or c.office_code = $office_code)
    and ($level < 0 or c.escalation_level = $level)
    and c.received_month between $first_month and $last_month
group by c.escalation_level, c.holder_role, c.age_bucket, c.age_order
order by c.escalation_level, c.age_order
