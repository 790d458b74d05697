-- materialized: view
-- Periodic work orders (定期工单), one per plan and scheduled date.
select
    cast(id as bigint) as order_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(plan_id as bigint) as plan_id,
    cast(scheduled_for as date) as scheduled_for,
    cast(work_starts_at as timestamp) as work_starts_at,
    cast(discipline as varchar) as discipline,
    cast(state as varchar) as state,
    cast(created_at as timestamp) as created_at
from raw.maint_periodic_order
