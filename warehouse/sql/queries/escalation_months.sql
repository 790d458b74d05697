-- The office-local months the escalation board can filter by: those in which an open complaint
-- in scope was received or a complaint in scope escalated, oldest first.
select distinct month from (
    select received_month as month
    from marts.open_complaints
    where in_scope(office_code)
    union
    select month
    from marts.escalation_monthly
    where in_scope(office_code)
)
order by month
