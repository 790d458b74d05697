-- The office-local months with ticket clocks in the offices in scope (the page's month choices).
select distinct month
from marts.ticket_compliance
where in_scope(office_code)
order by month
