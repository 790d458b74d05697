-- One node's months of one kind between $start and $end with whether each is still in progress
-- (the month of as_of on the office's clock, or later: docs/energy-marts.md) besides complete
-- and estimated. A city or group node only when all its offices are in scope; other levels by
-- their office.
select month, consumption, complete, estimated, in_progress
from marts.energy_monthly
where level = $level and node_code = $node and kind = $kind
    and month >= $start and month <= $end
    and (case level
        when 'city' then city_in_scope(node_code)
        when 'group' then group_in_scope(node_code)
        else in_scope(office_code) end)
order by month
