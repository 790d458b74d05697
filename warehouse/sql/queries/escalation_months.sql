-- The office-local months the escalation board can filter by: those in which an open complaint
-- in scope was received or a complaint in scope escalated, oldest first.
select distinct month from (
    select received_month as month
    from marts.open_complaints
    where in_scope(office_code)
    union
    select cast(date_trunc(
        'month', timezone(coalesce(o.timezone, 'Asia/Shanghai'), timezone('UTC', e.escalated_at))
    ) as date)
    from marts.complaint_escalations as e
    left join marts.dim_office as o on o.office_code = e.office_code
    where in_scope(e.office_code)
)
order by month
