-- materialized: view
-- SLA clock runs as the operational core stored them (target fixed at start). Instants are UTC.
select
    cast(id as bigint) as clock_id,
    cast(document_type as varchar) as document_type,
    cast(document_id as bigint) as document_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(clock as varchar) as clock,
    cast(target_amount as integer) as target_amount,
    cast(target_unit as varchar) as target_unit,
    cast(calendar as varchar) as calendar_kind,
    cast(started_at as timestamp) as stored_started_at,
    cast(due_at as timestamp) as stored_due_at,
    cast(stopped_at as timestamp) as stored_stopped_at,
    cast(started_event_id as bigint) as started_event_id,
    cast(stopped_event_id as bigint) as stopped_event_id
from raw.workflow_clock
