-- Metering points (计量点): a fixed place in the meter tree of one office and one kind.
select
    cast(id as bigint) as point_id,
    cast(office_id as bigint) as office_id,
    cast(code as varchar) as point_code,
    cast(name as varchar) as point_name,
    cast(kind as varchar) as kind,
    cast(parent_id as bigint) as parent_point_id,
    cast(building_id as bigint) as building_id,
    cast(created_at as timestamp) as created_at
from raw.energy_point
