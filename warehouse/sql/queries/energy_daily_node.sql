-- The days of a building, office, city or group node (pre-aggregated by the build in
-- marts.energy_daily_node); a city or group only when all its offices are in scope.
select day, consumption, estimated
from marts.energy_daily_node
where level = $level and node_code = $node and kind = $kind
    and day between $start and $end
    and (case level
        when 'city' then city_in_scope(node_code)
        when 'group' then group_in_scope(node_code)
        else in_scope(office_code) end)
order by day
