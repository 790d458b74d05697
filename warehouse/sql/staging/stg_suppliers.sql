-- Suppliers (供应商) of the group: code, name and main discipline.
select
    cast(id as bigint) as supplier_id,
    cast(group_id as bigint) as group_id,
    cast(supplier_code as varchar) as supplier_code,
    cast(name as varchar) as supplier_name,
    cast(discipline as varchar) as discipline
from raw.supplier
