-- The drill-down below an office in scope: its buildings and its root points outside any
-- building, with their consumption over the months $start..$end.
with kids as (
    select distinct 'building' as level, office_code || '/' || building as node_code,
        building as name
    from marts.dim_energy_point
    where office_code = $node and building is not null and in_scope(office_code)
    union all
    select 'point', point_code, name
    from marts.dim_energy_point
    where office_code = $node and is_root and building is null and in_scope(office_code)
)
select k.level, k.node_code, any_value(k.name) as name,
    sum(m.consumption) as consumption, bool_and(m.complete) as complete
from kids as k
left join marts.energy_monthly as m
    on m.level = k.level and m.node_code = k.node_code and m.kind = $kind
    and m.month between $start and $end
group by k.level, k.node_code
order by k.level, k.node_code
