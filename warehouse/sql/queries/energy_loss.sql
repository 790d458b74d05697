-- A parent point's months: its consumption against its direct children's (loss, 损耗), if its
-- office is in scope.
select month, consumption, children_consumption, loss, loss_pct, complete
from marts.energy_monthly
where level = 'point' and node_code = $node and children_consumption is not null
    and in_scope(office_code)
order by month
