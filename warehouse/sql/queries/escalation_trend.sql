-- Escalations fired (marts.escalation_monthly) per office-local month, level and office of the
-- offices in scope, with the office's city company; filtered by city company, office
-- ('' = all), level (-1 = all) and month ($first_month..$last_month).
select m.month, m.city_code, o.city_name, m.office_code, o.office_name, m.level,
    m.escalations
from marts.escalation_monthly as m
left join marts.dim_office as o on o.office_code = m.office_code
where in_scope(m.office_code)
    and ($city_code = '' or m.city_code = $city_code)
    and ($office_code = '' or m.office_code = $office_code)
    and ($level < 0 or m.level = $level)
    and m.month between $first_month and $last_month
order by m.month, m.city_code, m.office_code, m.level
