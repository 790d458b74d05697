-- The office-local months with SLA clocks in the offices in scope (the page's month choices).
select distinct month
from marts.sla_compliance
where in_scope(office_code)
order by month
