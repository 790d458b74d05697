-- One row per ticket received by the build's as_of (docs/tickets.md): its office, type,
-- severity (complaints), urgency (repairs), night service (夜间服务), when it was received and
-- last resolved (replied, for an inquiry) by as_of, the ticket it reworks, and the escalation
-- level reached by as_of (marts.complaint_escalations; 0 for none and for other types), and
-- its state at as_of (the last event's; `closed` once a follow-up satisfied the owner).
-- Kept incrementally: the rows of the tickets in delta.tickets (sql/changes/tickets.sql).
-- incremental: ticket_no
-- whole when changed: staging.stg_offices
with

params as (select as_of from raw.run_params),

-- one pass over the tickets' events up to as_of: the last resolution (reply) and the state
events as (
    select
        e.document_type,
        e.document_id,
        max(e.event_at) filter (where e.to_state in ('resolved', 'replied')) as resolved_at,
        arg_max(e.to_state, (e.event_at, e.event_id)) as state
    from staging.stg_workflow_events as e, params
    where e.event_at <= params.as_of and e.document_type in ('inquiry', 'repair', 'complaint')
        and e.document_id in (select ticket_id from delta.tickets)
    group by e.document_type, e.document_id
),

levels as (
    select ticket_no, max(level) as escalation_level
    from marts.complaint_escalations
    where ticket_no in (select ticket_no from delta.tickets)
    group by ticket_no
)

select
    t.ticket_no,
    o.office_code,
    t.ticket_type as type,
    t.severity,
    t.urgency,
    t.night_service,
    t.received_at,
    ev.resolved_at,
    first_of.ticket_no as reopened_from,
    cast(coalesce(l.escalation_level, 0) as integer) as escalation_level,
    ev.state
from staging.stg_tickets as t
semi join delta.tickets as d on d.ticket_id = t.ticket_id
cross join params
inner join staging.stg_offices as o on o.office_id = t.office_id
left join events as ev on ev.document_type = t.ticket_type and ev.document_id = t.ticket_id
left join staging.stg_tickets as first_of on first_of.ticket_id = t.reopened_from_id
left join levels as l on l.ticket_no = t.ticket_no
where t.received_at <= params.as_of
order by t.ticket_no
