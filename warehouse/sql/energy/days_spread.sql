-- Each accepted interval's Δ spread over the office-local days it covers, in proportion to the
-- overlap (a zero-length interval puts its Δ on its own day), aggregated per point × day.
-- Rule: docs/energy-marts.md ("Days"). Written to the temp table _days_agg by warehouse.energy.
--
-- A day is *estimated* when part of its consumption comes from an interval longer than
-- $estimated_after_us (warehouse.energy.ESTIMATED_AFTER: a missed reading), not merely because
-- a daily reading's interval straddles midnight.
--
-- Which intervals: a full build ($full) takes one bucket of points, $low <= point_id < $high
-- (null: open); a refresh takes the intervals of the points in _scope_day reaching into their
-- first recomputed day ($bound: the earliest such day's start, null when a point is redone
-- whole), and keeps the days from that first day on (first_day: null in a full build).
-- Zones with one UTC offset and 24-hour days over the covered range ($has_fixed) compute days
-- by arithmetic; other zones ($has_other) look their days up in energy.day_bounds. A branch no
-- point needs is dropped when the statement is planned (its filter is constant false): each
-- scans the intervals.
--
-- Constants: $epoch (day 0 of the day numbers, 2000-01-01), $epoch_day (its number of days
-- since 1970), $day_us (microseconds a day), $key (a point id × $key + day number + $key / 2 is
-- one integer per point day: cheaper to hash than two columns or a date).
with

source as not materialized (
    select i.*, cast(null as bigint) as first_day
    from marts.energy_intervals as i
    where $full and i.status <> 'held'
        and ($low::bigint is null or i.point_id >= $low::bigint)
        and ($high::bigint is null or i.point_id < $high::bigint)
    union all
    select i.*, cast(s.first_day as bigint) as first_day
    from marts.energy_intervals as i
    inner join _scope_day as s using (point_id)
    where not $full and i.status <> 'held'
        and (s.first_day_start is null or i.end_at > s.first_day_start)
        and ($bound::timestamp is null or i.end_at > $bound::timestamp)
),

fixed as (
    select
        i.point_id,
        epoch_us(i.start_at) as s,
        epoch_us(i.end_at) as e,
        i.delta,
        i.first_day,
        cast(p.offset_seconds as bigint) * 1000000 as off
    from source as i
    inner join _ptz as p using (point_id)
    where $has_fixed and p.fixed
),

fixed_days as (
    select
        *,
        (s + off) // $day_us - $epoch_day as d0,
        (e + off) // $day_us - $epoch_day as d1
    from fixed
),

fixed_spread as (
    select
        x.point_id,
        x.dn,
        x.d0,
        x.e - x.s as dur,
        x.delta,
        least(x.e, x.b + $day_us) - greatest(x.s, x.b) as ov,
        cast(86400 as double) as day_seconds,
        x.first_day
    from (
        select *, (dn + $epoch_day) * $day_us - off as b
        from (select *, unnest(range(d0, d1 + 1)) as dn from fixed_days)
    ) as x
),

iv0 as (
    select
        i.point_id,
        i.start_at,
        i.end_at,
        i.delta,
        i.first_day,
        p.timezone,
        epoch_us(i.end_at) - epoch_us(i.start_at) as dur,
        date_diff('day', $epoch::date, cast(i.start_at + to_seconds(p.offset_seconds) as date))
            as g0,
        date_diff('day', $epoch::date, cast(i.end_at + to_seconds(p.offset_seconds) as date))
            as g1
    from source as i
    inner join _ptz as p using (point_id)
    where $has_other and not p.fixed
),

-- a first guess of the local day from the zone's representative offset, corrected by at most
-- one day against the day's bounds
iv as (
    select
        iv0.*,
        case
            when iv0.start_at < b0.start_at then b0.day_number - 1
            when iv0.start_at >= b0.end_at then b0.day_number + 1
            else b0.day_number
        end as d0,
        case
            when iv0.end_at < b1.start_at then b1.day_number - 1
            when iv0.end_at >= b1.end_at then b1.day_number + 1
            else b1.day_number
        end as d1
    from iv0
    inner join energy.day_bounds as b0 on b0.timezone = iv0.timezone and b0.day_number = iv0.g0
    inner join energy.day_bounds as b1 on b1.timezone = iv0.timezone and b1.day_number = iv0.g1
),

other_spread as (
    select
        x.point_id,
        x.dn,
        x.d0,
        x.dur,
        x.delta,
        least(epoch_us(x.end_at), epoch_us(b.end_at))
            - greatest(epoch_us(x.start_at), epoch_us(b.start_at)) as ov,
        b.seconds as day_seconds,
        x.first_day
    from (select *, unnest(range(d0, d1 + 1)) as dn from iv) as x
    inner join energy.day_bounds as b on b.timezone = x.timezone and b.day_number = x.dn
),

spread as (
    select * from fixed_spread
    union all
    select * from other_spread
),

by_point_day as (
    select
        sp.point_id * $key + sp.dn + $key // 2 as k,
        sum(case when sp.dur = 0 then sp.delta else sp.delta * sp.ov / sp.dur end)
            as consumption,
        bool_or(sp.dur > $estimated_after_us) as estimated,
        sum(greatest(sp.ov, 0)) / 1e6 as covered_seconds,
        any_value(sp.day_seconds) as day_seconds
    from spread as sp
    where ((sp.dur = 0 and sp.dn = sp.d0) or sp.ov > 0)
        -- a refresh keeps the days from the point's first recomputed day on
        and (sp.first_day is null or sp.dn >= sp.first_day)
    group by k
)

select
    k // $key as point_id,
    $epoch::date + cast(k % $key - $key // 2 as integer) as day,
    * exclude (k)
from by_point_day
-- Numbers only, before the codes are joined (days_rows.sql keeps the order; sorting the wide
-- rows cost twice as much): a full build's marts.energy_daily then lies in day order within each
-- bucket. A refresh's statements bounded by a recent day (deleting and re-reading the recomputed
-- days, the check of them) then skip the older row groups by their min/max; as the hash
-- aggregate left them, every row group held a few of the newest days and each of those
-- statements read all 22 M days (≈ 0.5–1 s apiece). The intervals are left unordered: sorting a
-- bucket's interval pairs by time cost ≈ 1.5 s per bucket, more than the two refresh statements
-- it would have sped up.
order by day
