-- The complaint escalation ladder recomputed from the events, as of the build (docs/tickets.md):
-- the same rule as operational/escalation.py, checked against tests/vectors/escalation_vectors.json,
-- so `pipeline run --as-of T` lists exactly the levels the live ladder had fired by T.
-- Level 1 at the earliest of the resolution clock's breach (its deadline, when not resolved by
-- then; reason timeout) and the first unsatisfied follow-up (reason unsatisfied); level 2 at the
-- earliest of the breach of escalated_resolution (level-1 instant + the same target, stopped by
-- the first resolution after level 1) and the first unsatisfied follow-up after level 1. On a tie
-- the timeout wins. The resolution clock runs 24×7, so its deadline is start + target.
-- Kept incrementally: the rows of the complaints in delta.complaint_escalations
-- (sql/changes/complaint_escalations.sql).
-- incremental: ticket_no
-- whole when changed: staging.stg_offices
with

params as (select as_of from raw.run_params),

complaints as (
    select t.ticket_id, t.ticket_no, o.office_code
    from staging.stg_tickets as t
    inner join staging.stg_offices as o on o.office_id = t.office_id
    semi join delta.complaint_escalations as d on d.ticket_id = t.ticket_id
    where t.ticket_type = 'complaint'
),

events as (
    select e.document_id as ticket_id, e.from_state, e.to_state, e.event_at
    from staging.stg_workflow_events as e, params
    where e.document_type = 'complaint' and e.event_at <= params.as_of
        and e.document_id in (select ticket_id from delta.complaint_escalations)
),

resolution as (
    select
        c.document_id as ticket_id,
        s.event_at + to_minutes(
            c.target_amount * case c.target_unit when 'calendar_hours' then 60 else 1 end
        ) as due_at,
        to_minutes(
            c.target_amount * case c.target_unit when 'calendar_hours' then 60 else 1 end
        ) as target
    from staging.stg_workflow_clocks as c
    inner join staging.stg_workflow_events as s on s.event_id = c.started_event_id
    where c.document_type = 'complaint' and c.clock = 'resolution'
        and c.document_id in (select ticket_id from delta.complaint_escalations)
),

-- a resolution: into 'resolved'; a follow-up: out of 'resolved' (closed = satisfied,
-- back in progress = unsatisfied)
resolutions as (select ticket_id, event_at from events where to_state = 'resolved'),
unsatisfied as (
    select ticket_id, event_at from events
    where from_state = 'resolved' and to_state = 'in_progress'
),

level1_inputs as (
    select
        c.ticket_id,
        c.ticket_no,
        c.office_code,
        r.due_at,
        r.target,
        case when coalesce((select min(x.event_at) from resolutions as x
                            where x.ticket_id = c.ticket_id), p.as_of) > r.due_at
            then r.due_at end as timeout_at,
        (select min(u.event_at) from unsatisfied as u where u.ticket_id = c.ticket_id)
            as unsatisfied_at,
        p.as_of
    from complaints as c
    inner join resolution as r on r.ticket_id = c.ticket_id
    cross join params as p
),

level1 as (
    select
        *,
        case when timeout_at is not null and (unsatisfied_at is null or timeout_at <= unsatisfied_at)
            then timeout_at else unsatisfied_at end as level1_at,
        case when timeout_at is not null and (unsatisfied_at is null or timeout_at <= unsatisfied_at)
            then 'timeout' else 'unsatisfied' end as level1_reason
    from level1_inputs
    where timeout_at is not null or unsatisfied_at is not null
),

level2_inputs as (
    select
        l.*,
        l.level1_at + l.target as due2_at,
        case when coalesce((select min(x.event_at) from resolutions as x
                            where x.ticket_id = l.ticket_id and x.event_at > l.level1_at),
                           l.as_of) > l.level1_at + l.target
            then l.level1_at + l.target end as timeout2_at,
        (select min(u.event_at) from unsatisfied as u
         where u.ticket_id = l.ticket_id and u.event_at > l.level1_at) as unsatisfied2_at
    from level1 as l
),

fired as (
    select ticket_no, office_code, 1 as level, level1_at as escalated_at, level1_reason as reason
    from level1
    union all
    select
        ticket_no,
        office_code,
        2,
        case when timeout2_at is not null
                and (unsatisfied2_at is null or timeout2_at <= unsatisfied2_at)
            then timeout2_at else unsatisfied2_at end,
        case when timeout2_at is not null
                and (unsatisfied2_at is null or timeout2_at <= unsatisfied2_at)
            then 'timeout' else 'unsatisfied' end
    from level2_inputs
    where timeout2_at is not null or unsatisfied2_at is not null
)

select
    ticket_no,
    office_code,
    cast(level as integer) as level,
    escalated_at,
    reason,
    case level when 1 then 'city_audit_manager' else 'group_audit_manager' end as holder_role
from fired
order by ticket_no, level
