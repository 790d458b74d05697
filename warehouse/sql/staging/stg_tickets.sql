-- materialized: view
-- Customer-service tickets (工单: inquiry, repair, complaint). Instants are UTC. No free text and
-- no caller details are extracted (warehouse.extract leaves them out).
select
    cast(id as bigint) as ticket_id,
    cast(document_no as varchar) as ticket_no,
    cast(office_id as bigint) as office_id,
    cast(ticket_type as varchar) as ticket_type,
    cast(severity as varchar) as severity,
    cast(urgency as varchar) as urgency,
    cast(appointment_at as timestamp) as appointment_at,
    cast(received_at as timestamp) as received_at,
    cast(night_service as boolean) as night_service,
    cast(reopened_from_id as bigint) as reopened_from_id,
    cast(state as varchar) as state
from raw.cs_ticket
