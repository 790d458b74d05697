-- The metering points of one kind in scope with their place in the tree.
select point_code, name, kind, office_code, city_code, group_code, timezone,
    parent_point_code, building, building_area_m2, is_root, has_children
from marts.dim_energy_point
where kind = $kind and in_scope(office_code)
order by office_code, point_code
