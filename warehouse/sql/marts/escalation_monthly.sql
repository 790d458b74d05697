-- Escalations fired per office, office-local month and level (marts.complaint_escalations by
-- the month of `escalated_at` on the office's clock): the escalation board's trend, small
-- enough to read whole at 500 offices. docs/tickets.md.
select
    e.office_code,
    o.city_code,
    cast(date_trunc(
        'month', timezone(coalesce(o.timezone, 'Asia/Shanghai'), timezone('UTC', e.escalated_at))
    ) as date) as month,
    e.level,
    count(*) as escalations
from marts.complaint_escalations as e
left join marts.dim_office as o on o.office_code = e.office_code
group by all
order by office_code, month, level
