-- The tickets whose row of marts.tickets may differ from the previous build's (docs/warehouse.md,
-- Incremental marts): on a whole build every ticket. Else those with events extracted since the
-- previous build or dated after the previous as_of (received, resolved or moved on since: the
-- state and resolved_at read events up to as_of), those received after it, and the complaints
-- whose escalation rows were rebuilt in this run (delta.complaint_escalations).
select t.ticket_id, t.ticket_no
from staging.stg_tickets as t
where $full
    or t.received_at > $previous_as_of
    or t.ticket_id in (
        select document_id from delta.new_events
        where document_type in ('inquiry', 'repair', 'complaint')
        union
        select document_id from staging.stg_workflow_events
        where event_at > $previous_as_of and document_type in ('inquiry', 'repair', 'complaint')
        union
        select ticket_id from delta.complaint_escalations
    )
