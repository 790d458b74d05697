-- The complaints whose rows of marts.complaint_escalations may differ from the previous build's
-- (docs/warehouse.md, Incremental marts; docs/tickets.md, the ladder): on a whole build every
-- complaint. Else, with P the previous as_of and A this one (A ≥ P, or the build is whole):
-- * a complaint with events extracted since the previous build (delta.new_events), or dated in
--   (P, A] (they count now and did not then): a resolution, a follow-up, a new complaint;
-- * a complaint none of whose events changed differs only by a timeout that fires between the two
--   instants: the ladder compares as_of with a deadline only where no resolution was known — the
--   resolution clock's deadline D = start + target (level 1) and the escalated deadline
--   L + target (level 2), L the level-1 instant: D (by timeout) or the first unsatisfied
--   follow-up U. A build at a deadline still sees it pending, so a level fires between P and A
--   when its deadline is in [P, A): the complaints with D, D + target or U + target (U any
--   unsatisfied follow-up by A) in [P, A] are rebuilt. The start is the clock's starting event,
--   as the mart reads it.
-- (`not $full` below: a whole build computes none of it.)
with

ticket_events as (
    select document_id, from_state, to_state, event_at
    from staging.stg_workflow_events
    where document_type = 'complaint' and not $full
),

resolution as (
    select
        c.document_id as ticket_id,
        s.event_at as started_at,
        to_minutes(
            c.target_amount * case c.target_unit when 'calendar_hours' then 60 else 1 end
        ) as target
    from staging.stg_workflow_clocks as c
    inner join staging.stg_workflow_events as s on s.event_id = c.started_event_id
    where c.document_type = 'complaint' and c.clock = 'resolution' and not $full
),

changed as (
    select document_id as ticket_id from delta.new_events where document_type = 'complaint'
    union
    select document_id from ticket_events
    where event_at > $previous_as_of and event_at <= $as_of
    union
    select ticket_id from resolution
    where started_at + target between $previous_as_of and $as_of
        or started_at + 2 * target between $previous_as_of and $as_of
    union
    select e.document_id
    from ticket_events as e
    inner join resolution as r on r.ticket_id = e.document_id
    where e.from_state = 'resolved' and e.to_state = 'in_progress' and e.event_at <= $as_of
        and e.event_at + r.target between $previous_as_of and $as_of
)

select t.ticket_id, t.ticket_no
from staging.stg_tickets as t
where t.ticket_type = 'complaint'
    and ($full or t.ticket_id in (select ticket_id from changed))
