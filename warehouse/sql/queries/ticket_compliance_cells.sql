-- Ticket SLA compliance (marts.ticket_compliance) of the offices in scope summed per clock,
-- office-local month and day or night service, with the same filters as ticket_compliance.sql
-- (the SLA page's heat-map and day/night figures, whatever the number of offices).
select c.clock, c.month, c.night_service,
    cast(sum(c.total) as bigint) as total,
    cast(sum(c.met) as bigint) as met,
    cast(sum(c.breached) as bigint) as breached,
    cast(sum(c.pending) as bigint) as pending,
    case when sum(c.met) + sum(c.breached) > 0
        then 100.0 * sum(c.met) / (sum(c.met) + sum(c.breached)) end as compliance_pct
from marts.ticket_compliance as c
where in_scope(c.office_code)
    and ($office_code = '' or c.office_code = $office_code)
    and ($type = '' or c.type = $type)
    and ($clock = '' or c.clock = $clock)
    and c.month between $first_month and $last_month
group by c.clock, c.month, c.night_service
order by c.clock, c.month, c.night_service
