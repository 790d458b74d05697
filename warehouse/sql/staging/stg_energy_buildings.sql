-- Buildings (楼栋) of an office's estate; the area serves consumption per m².
select
    cast(id as bigint) as building_id,
    cast(office_id as bigint) as office_id,
    cast(name as varchar) as building_name,
    cast(area_m2 as double) as area_m2
from raw.energy_building
