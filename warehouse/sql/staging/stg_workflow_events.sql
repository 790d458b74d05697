-- materialized: view
-- Workflow events (one append-only log for every document type). Instants are UTC.
select
    cast(id as bigint) as event_id,
    cast(document_type as varchar) as document_type,
    cast(document_id as bigint) as document_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(transition as varchar) as transition,
    cast(from_state as varchar) as from_state,
    cast(to_state as varchar) as to_state,
    cast(actor as varchar) as actor,
    cast("at" as timestamp) as event_at
from raw.workflow_event
