-- materialized: view
-- Corrective orders (纠正派工单).
select
    cast(id as bigint) as order_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(discipline as varchar) as discipline,
    cast(object_id as bigint) as object_id,
    cast(source_order_id as bigint) as source_order_id,
    cast(state as varchar) as state,
    cast(created_at as timestamp) as created_at
from raw.maint_corrective_order
