-- The exceptions to follow up of the offices in scope (one kind, or all when $kind = ''),
-- newest first, at most $limit rows.
select point_code, office_code, kind, rule, start_at, end_at, start_reading, end_reading,
    delta, typical_daily, details
from marts.energy_exceptions
where ($kind = '' or kind = $kind) and in_scope(office_code)
order by end_at desc, point_code
limit $limit
