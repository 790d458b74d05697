-- The tickets whose row of marts.tickets may differ from the previous build's (docs/warehouse.md,
-- Incremental marts): on a whole build every ticket. Else, with P the previous as_of and A this
-- one (A ≥ P, or the build is whole): a row reads the ticket's own record (changed only with an
-- event of it), its office (any change: whole), its events up to as_of (state, resolved_at) and
-- its escalation level. So: the tickets received in (P, A] (their rows appear), those with events
-- extracted since the previous build (delta.new_events) or dated in (P, A] (they count now and
-- did not then), and the complaints whose escalation rows were rebuilt in this run
-- (delta.complaint_escalations, whose rule says when a level fires by as_of alone).
select t.ticket_id, t.ticket_no
from staging.stg_tickets as t
where $full
    or (t.received_at > $previous_as_of and t.received_at <= $as_of)
    or t.ticket_id in (
        select document_id from delta.new_events
        where document_type in ('inquiry', 'repair', 'complaint')
        union
        select document_id from staging.stg_workflow_events
        where event_at > $previous_as_of and event_at <= $as_of
            and document_type in ('inquiry', 'repair', 'complaint')
        union
        select ticket_id from delta.complaint_escalations
    )
