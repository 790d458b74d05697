-- The drill-down below a building (office_code/building) in scope: its points whose parent is
-- not in the same building, with their consumption over the months $start..$end.
with kids as (
    select 'point' as level, point_code as node_code, name
    from marts.dim_energy_point
    where office_code || '/' || building = $node
        and (parent_building is null or parent_building <> building)
        and in_scope(office_code)
)
select k.level, k.node_code, any_value(k.name) as name,
    sum(m.consumption) as consumption, bool_and(m.complete) as complete
from kids as k
left join marts.energy_monthly as m
    on m.level = k.level and m.node_code = k.node_code and m.kind = $kind
    and m.month between $start and $end
group by k.level, k.node_code
order by k.level, k.node_code
