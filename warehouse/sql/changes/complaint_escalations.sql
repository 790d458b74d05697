-- The complaints whose rows of marts.complaint_escalations may differ from the previous build's
-- (docs/warehouse.md, Incremental marts): on a whole build every complaint. Else a level can
-- only have fired or moved since the previous as_of for a complaint
-- * with events extracted since the previous build, or dated after the previous as_of (a
--   resolution, an unsatisfied follow-up: level 1 or 2 by `unsatisfied`, or a timeout moved);
-- * whose resolution clock's deadline (start + target: level-1 timeout) or the latest possible
--   escalated deadline after a level 1 at or before it (start + 2 × target: level-2 timeout)
--   lies after the previous as_of, and whose deadline is due by this as_of;
-- * with an unsatisfied follow-up by this as_of whose escalated deadline (the follow-up + target:
--   level-2 timeout after a level 1 fired by that follow-up) lies after the previous as_of.
with

ticket_events as (
    select document_id, from_state, to_state, event_at
    from staging.stg_workflow_events
    where document_type = 'complaint'
),

resolution as (
    select
        document_id as ticket_id,
        stored_started_at as started_at,
        to_minutes(target_amount * case target_unit when 'calendar_hours' then 60 else 1 end)
            as target
    from staging.stg_workflow_clocks
    where document_type = 'complaint' and clock = 'resolution'
),

changed as (
    select document_id as ticket_id from delta.new_events where document_type = 'complaint'
    union
    select document_id from ticket_events where event_at > $previous_as_of
    union
    select ticket_id from resolution
    where started_at + target <= $as_of and started_at + 2 * target > $previous_as_of
    union
    select e.document_id
    from ticket_events as e
    inner join resolution as r on r.ticket_id = e.document_id
    where e.from_state = 'resolved' and e.to_state = 'in_progress' and e.event_at <= $as_of
        and e.event_at + r.target > $previous_as_of
)

select t.ticket_id, t.ticket_no
from staging.stg_tickets as t
where t.ticket_type = 'complaint'
    and ($full or t.ticket_id in (select ticket_id from changed))
