-- Ticket SLA compliance (marts.ticket_compliance) of the offices in scope per office, ticket
-- type, clock, office-local month and day or night service, over the months
-- $first_month..$last_month, of one office, type and clock if given ('' = all).
select c.office_code, o.office_name, o.city_code, c.type, c.clock, c.month, c.night_service,
    c.total, c.met, c.breached, c.pending, c.compliance_pct
from marts.ticket_compliance as c
left join marts.dim_office as o on o.office_code = c.office_code
where in_scope(c.office_code)
    and ($office_code = '' or c.office_code = $office_code)
    and ($type = '' or c.type = $type)
    and ($clock = '' or c.clock = $clock)
    and c.month between $first_month and $last_month
order by c.office_code, c.type, c.clock, c.month, c.night_service
