-- Ticket SLA compliance (工单时效达标率) per office, ticket type, clock, office-local month in
-- which the clock started, and day or night service (夜间服务) — the ticket clocks of
-- marts.sla_clocks, each counted once. compliance_pct = 100 × met ÷ (met + breached); NULL when
-- both are 0. docs/tickets.md.
-- Kept incrementally: the rows (day and night) of the groups in delta.ticket_compliance
-- (sql/changes/ticket_compliance.sql).
-- incremental: office_code, type, clock, month
with

clocks as (
    select c.office_code, c.document_type, c.clock, c.month, c.state, t.night_service
    from marts.sla_clocks as c
    semi join delta.ticket_compliance as d
        on d.office_code = c.office_code
        and d.type = c.document_type
        and d.clock = c.clock
        and d.month = c.month
    inner join staging.stg_tickets as t
        on t.ticket_type = c.document_type and t.ticket_id = c.document_id
    where c.document_type in ('inquiry', 'repair', 'complaint')
),

counted as (
    select
        office_code,
        document_type as type,
        clock,
        month,
        night_service,
        count(*) as total,
        count(*) filter (where state = 'met') as met,
        count(*) filter (where state = 'breached') as breached,
        count(*) filter (where state = 'pending') as pending
    from clocks
    group by office_code, document_type, clock, month, night_service
)

select
    *,
    case when met + breached > 0 then 100.0 * met / (met + breached) end as compliance_pct
from counted
order by office_code, type, clock, month, night_service
