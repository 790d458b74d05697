-- The property-management group (集团).
select
    cast(id as bigint) as group_id,
    cast(code as varchar) as group_code,
    cast(name as varchar) as group_name
from raw.org_group
