-- Consumption per m² of the buildings in scope that have an area, over the months
-- $start..$end.
with b as (
    select distinct office_code, building, building_area_m2 as area_m2
    from marts.dim_energy_point
    where building is not null and building_area_m2 > 0 and in_scope(office_code)
)
select b.office_code, b.building, b.area_m2, sum(m.consumption) as consumption,
    sum(m.consumption) / b.area_m2 as consumption_per_m2
from b
join marts.energy_monthly as m
    on m.level = 'building' and m.node_code = b.office_code || '/' || b.building
    and m.kind = $kind and m.month between $start and $end
group by b.office_code, b.building, b.area_m2
order by b.office_code, b.building
