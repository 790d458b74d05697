-- The drill-down below a point: its direct sub-meters in scope, with their consumption over
-- the months $start..$end.
with kids as (
    select 'point' as level, c.point_code as node_code, c.name
    from marts.dim_energy_point as c
    join marts.dim_energy_point as p on c.parent_point_id = p.point_id
    where p.point_code = $node and in_scope(c.office_code)
)
select k.level, k.node_code, any_value(k.name) as name,
    sum(m.consumption) as consumption, bool_and(m.complete) as complete
from kids as k
left join marts.energy_monthly as m
    on m.level = k.level and m.node_code = k.node_code and m.kind = $kind
    and m.month between $start and $end
group by k.level, k.node_code
order by k.level, k.node_code
