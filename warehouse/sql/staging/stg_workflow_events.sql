-- materialized: view
-- Workflow events (one append-only log for every document type). Instants are UTC. Only what
-- the models read is extracted (warehouse.extract: the payload, transition name, actor and
-- document number stay in the operational log).
select
    cast(id as bigint) as event_id,
    cast(document_type as varchar) as document_type,
    cast(document_id as bigint) as document_id,
    cast(office_id as bigint) as office_id,
    cast(from_state as varchar) as from_state,
    cast(to_state as varchar) as to_state,
    cast("at" as timestamp) as event_at
from raw.workflow_event
