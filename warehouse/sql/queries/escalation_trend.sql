-- Escalations fired (marts.complaint_escalations) per office-local month, level and office of
-- the offices in scope, with the office's city company; filtered by city company, office
-- ('' = all), level (-1 = all) and month ($first_month..$last_month).
with

fired as (
    select
        e.office_code,
        o.office_name,
        o.city_code,
        o.city_name,
        e.level,
        cast(date_trunc(
            'month',
            timezone(coalesce(o.timezone, 'Asia/Shanghai'), timezone('UTC', e.escalated_at))
        ) as date) as month
    from marts.complaint_escalations as e
    left join marts.dim_office as o on o.office_code = e.office_code
    where in_scope(e.office_code)
)

select month, city_code, city_name, office_code, office_name, level,
    count(*) as escalations
from fired
where ($city_code = '' or city_code = $city_code)
    and ($office_code = '' or office_code = $office_code)
    and ($level < 0 or level = $level)
    and month between $first_month and $last_month
group by month, city_code, city_name, office_code, office_name, level
order by month, city_code, office_code, level
