-- Periodic plans (定期计划).
select
    cast(id as bigint) as plan_id,
    cast(document_no as varchar) as document_no,
    cast(office_id as bigint) as office_id,
    cast(discipline as varchar) as discipline,
    cast(frequency as varchar) as frequency,
    cast(every as integer) as every,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(state as varchar) as state,
    cast(approved_at as timestamp) as approved_at
from raw.maint_periodic_plan
