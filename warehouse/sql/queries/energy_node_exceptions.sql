-- The exceptions of the points of one kind under a node ($level, $node; the group: all of them)
-- whose office is in scope, with each one's latest follow-up; those still to follow up first,
-- then the newest; at most $limit rows, each carrying the count of all of them (total) and of
-- those not done (open_total). An exception's key: point_code, rule, start_at.
with

under as (
    select point_id, name, timezone
    from marts.dim_energy_point
    where kind = $kind and in_scope(office_code)
        and case $level
            when 'group' then group_code = $node
            when 'city' then city_code = $node
            when 'office' then office_code = $node
            when 'building' then office_code || '/' || building = $node
            else point_code = $node
        end
)

select
    e.point_code, u.name, e.office_code, u.timezone, e.rule, e.start_at, e.end_at,
    e.start_reading, e.end_reading, e.delta, e.typical_daily, e.held_reason,
    e.followed_up_at, e.followed_up_by, e.follow_up_note, e.done,
    count(*) over () as total,
    count(*) filter (where not e.done) over () as open_total
from marts.energy_exceptions as e
inner join under as u using (point_id)
order by e.done, coalesce(e.end_at, e.start_at) desc, e.point_code, e.rule
limit $limit
