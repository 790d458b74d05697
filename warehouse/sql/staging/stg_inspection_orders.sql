-- materialized: view
-- Inspection orders (检查工单), one per inspection plan and scheduled date (docs/inspections.md):
-- kind professional or quality, the plan's discipline. Instants are UTC.
select
    cast(id as bigint) as order_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(plan_id as bigint) as plan_id,
    cast(kind as varchar) as kind,
    cast(discipline as varchar) as discipline,
    cast(scheduled_for as date) as scheduled_for,
    cast(work_starts_at as timestamp) as work_starts_at,
    cast(inspector_id as bigint) as inspector_id,
    cast(submitted_at as timestamp) as submitted_at,
    cast(state as varchar) as state,
    cast(created_at as timestamp) as created_at
from raw.insp_order
