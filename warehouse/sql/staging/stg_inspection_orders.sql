-- materialized: view
-- Inspection orders (检查工单), one per plan and scheduled date (office-local), with the plan's
-- kind and discipline; submitted_at (UTC) once the inspector has submitted every score.
select
    cast(id as bigint) as order_id,
    cast(document_no as varchar) as order_no,
    cast(office_id as bigint) as office_id,
    cast(plan_id as bigint) as plan_id,
    cast(kind as varchar) as kind,
    cast(discipline as varchar) as discipline,
    cast(scheduled_for as date) as scheduled_for,
    cast(work_starts_at as timestamp) as work_starts_at,
    cast(state as varchar) as state,
    cast(submitted_at as timestamp) as submitted_at
from raw.insp_order
