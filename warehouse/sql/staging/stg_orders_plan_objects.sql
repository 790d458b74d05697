-- Which objects each periodic plan covers.
select
    cast(plan_id as bigint) as plan_id,
    cast(object_id as bigint) as object_id
from raw.maint_plan_object
