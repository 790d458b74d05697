-- Objects an office maintains (对象), with their type's discipline.
select
    cast(o.id as bigint) as object_id,
    cast(o.office_id as bigint) as office_id,
    cast(o.code as varchar) as object_code,
    cast(o.name as varchar) as object_name,
    cast(t.code as varchar) as type_code,
    cast(t.discipline as varchar) as discipline,
    cast(o.created_at as timestamp) as created_at
from raw.maint_object as o
left join raw.maint_object_type as t on t.id = o.type_id
