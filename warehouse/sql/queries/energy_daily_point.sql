-- One point's days between $start and $end (inclusive), if its office is in scope.
select day, consumption, estimated
from marts.energy_daily
where point_code = $node and ($kind = '' or kind = $kind)
    and day between $start and $end
    and in_scope(office_code)
order by day
