-- Follow-ups of energy exceptions (异常跟进): an office's note on an exception and whether it is
-- done, one row per follow-up (the latest counts). An exception is named by its point, rule and
-- start instant (UTC), as in marts.energy_exceptions.
select
    cast(id as bigint) as followup_id,
    cast(point_id as bigint) as point_id,
    cast(rule as varchar) as rule,
    cast(start_at as timestamp) as start_at,
    cast(note as varchar) as note,
    cast(done as boolean) as done,
    cast(followed_up_by as varchar) as followed_up_by,
    cast(followed_up_at as timestamp) as followed_up_at
from raw.energy_exception_followup
