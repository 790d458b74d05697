-- The rows of marts.energy_daily from the aggregated days (_days_agg, days_spread.sql): the
-- point's codes joined after the aggregate, so the planner builds its hash table on the points
-- instead of the millions of aggregated rows; the join keeps the aggregate's day order.
select
    a.point_id,
    p.point_code,
    p.office_code,
    p.kind,
    a.day,
    a.consumption,
    a.estimated,
    a.covered_seconds,
    a.day_seconds
from _days_agg as a
inner join marts.dim_energy_point as p using (point_id)
