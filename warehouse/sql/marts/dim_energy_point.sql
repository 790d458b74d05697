-- One row per metering point with its place in the organisation and the meter tree.
-- is_root: no parent point (office, city and group totals sum root points only).
-- parent_building: the parent point's building (a building's total sums its points whose
-- parent is not in the same building).
with

points as (select * from staging.stg_energy_points),

buildings as (select * from staging.stg_energy_buildings),

offices as (select * from staging.stg_offices),

cities as (select * from staging.stg_city_companies),

groups as (select * from staging.stg_groups),

final as (
    select
        points.point_id,
        points.point_code,
        points.point_name as name,
        points.kind,
        offices.office_code,
        cities.city_code,
        groups.group_code,
        coalesce(offices.timezone, 'Asia/Shanghai') as timezone,
        points.parent_point_id,
        parents.point_code as parent_point_code,
        buildings.building_name as building,
        buildings.area_m2 as building_area_m2,
        parent_buildings.building_name as parent_building,
        points.parent_point_id is null as is_root,
        exists (
            select 1 from points as kids where kids.parent_point_id = points.point_id
        ) as has_children
    from points
    left join offices on points.office_id = offices.office_id
    left join cities on offices.city_id = cities.city_id
    left join groups on cities.group_id = groups.group_id
    left join points as parents on points.parent_point_id = parents.point_id
    left join buildings on points.building_id = buildings.building_id
    left join buildings as parent_buildings on parents.building_id = parent_buildings.building_id
)

select * from final
order by office_code, point_code
