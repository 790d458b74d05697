-- The drill-down below a group: its city companies whose offices are all in scope, with
-- their consumption over the months $start..$end.
with kids as (
    select distinct 'city' as level, city_code as node_code, city_code as name
    from marts.dim_energy_point
    where group_code = $node and city_in_scope(city_code)
)
select k.level, k.node_code, any_value(k.name) as name,
    sum(m.consumption) as consumption, bool_and(m.complete) as complete
from kids as k
left join marts.energy_monthly as m
    on m.level = k.level and m.node_code = k.node_code and m.kind = $kind
    and m.month between $start and $end
group by k.level, k.node_code
order by k.level, k.node_code
