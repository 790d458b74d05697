-- The UTC days energy.day_bounds must cover: from two days before the earliest installation to
-- three days after the latest reading or removal, of the points not held (a held point's
-- instants may lie anywhere; the others lie within [$earliest, $latest] by the hold rule, and
-- the range is clamped to it besides).
--
-- Parameters: $watermark (readings up to it are covered already), $earliest, $latest.
select
    greatest(min(t), $earliest)::date - 2 as first_day,
    least(max(t), $latest)::date + 3 as last_day
from (
    select installed_at as t from energy.meters
    union all
    select removed_at from energy.meters
    union all
    select max(read_at) from energy.readings where reading_id > $watermark
)
