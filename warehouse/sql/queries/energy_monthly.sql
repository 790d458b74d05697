-- One node's months of one kind between $start and $end: consumption, children's sum, loss,
-- loss % (points with sub-meters), complete, estimated. A city or group node only when all
-- its offices are in scope; other levels by their office.
select month, consumption, children_consumption, loss, loss_pct, complete, estimated
from marts.energy_monthly
where level = $level and node_code = $node and kind = $kind
    and month >= $start and month <= $end
    and (case level
        when 'city' then city_in_scope(node_code)
        when 'group' then group_in_scope(node_code)
        else in_scope(office_code) end)
order by month
