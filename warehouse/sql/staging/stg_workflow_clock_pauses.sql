-- materialized: view
-- Pauses (挂起) of SLA clock runs, tied to the events that paused and resumed them (a clock stopped
-- while paused: resumed by its stop event). Instants are UTC; marts.sla_clocks takes them from the
-- events, the stored ones are kept for reference.
select
    cast(id as bigint) as pause_id,
    cast(clock_id as bigint) as clock_id,
    cast(paused_at as timestamp) as stored_paused_at,
    cast(resumed_at as timestamp) as stored_resumed_at,
    cast(paused_event_id as bigint) as paused_event_id,
    cast(resumed_event_id as bigint) as resumed_event_id
from raw.workflow_clock_pause
