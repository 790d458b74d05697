-- The open complaints of the escalation board (marts.open_complaints) in scope, filtered by city
-- company ($city_code), office ($office_code) ('' = all), level ($level; -1 = all) and the
-- office-local month received ($first_month..$last_month); the longest-open first, a page of
-- $limit rows from row $offset.
select c.ticket_no, c.office_code, o.office_name, c.city_code, o.city_name, c.severity, c.state,
    c.night_service, c.received_at, c.received_month, c.escalation_level, c.holder_role,
    c.escalated_at, c.age_hours, c.age_bucket, c.age_order, o.timezone
from marts.open_complaints as c
left join marts.dim_office as o on o.office_code = c.office_code
where in_scope(c.office_code)
    and ($city_code = '' or c.city_code = $city_code)
    and ($office_code = '' or c.office_code = $office_code)
    and ($level < 0 or c.escalation_level = $level)
    and c.received_month between $first_month and $last_month
order by c.age_hours desc, c.ticket_no
limit $limit offset $offset
