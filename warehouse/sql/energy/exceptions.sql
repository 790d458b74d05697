-- marts.energy_exceptions: what an office must follow up. One row per interval that is held,
-- rolled over or high, or whose end reading was flagged at entry (rule entry_flag_<flag> when the
-- warehouse finds it ok), and one row `point_held` per stored row that holds its point
-- (energy.held_rows). Each carries the office's latest follow-up of it (note, done), matched on
-- the exception's key (point, rule, start_at). Rules: docs/energy-marts.md ("Exceptions").
--
-- Parameters: $k (the factor of typical daily use above which an interval is high).
with

flagged as (
    select reading_id, flag from energy.readings where flag is not null
),

intervals as (
    select
        p.point_code,
        p.office_code,
        p.kind,
        case when i.status = 'ok' then 'entry_flag_' || f.flag else i.status end as rule,
        i.start_at,
        i.end_at,
        i.start_reading,
        i.end_reading,
        i.end_reading_id,
        i.multiplier,
        i.digits,
        i.delta,
        i.typical_daily,
        i.days,
        f.flag as entry_flag,
        case i.status
            when 'held' then case when i.digits is null
                then 'reading lower than the previous one on a meter without register digits'
                else 'roll-over implausible against typical daily use' end
            when 'rollover' then 'register rolled over'
            when 'high' then 'consumption above ' || cast($k as integer)
                || ' x typical daily use'
            else 'flagged at entry'
        end as details,
        cast(null as varchar) as held_reason,
        i.point_id
    from marts.energy_intervals as i
    inner join marts.dim_energy_point as p using (point_id)
    left join flagged as f on f.reading_id = i.end_reading_id
    where i.status <> 'ok' or f.flag is not null
),

held as (
    select
        p.point_code,
        p.office_code,
        p.kind,
        'point_held' as rule,
        h.held_at as start_at,
        cast(null as timestamp) as end_at,
        cast(null as double) as start_reading,
        h.value as end_reading,
        h.reading_id as end_reading_id,
        m.multiplier,
        h.digits,
        cast(null as double) as delta,
        cast(null as double) as typical_daily,
        cast(null as double) as days,
        cast(null as varchar) as entry_flag,
        case h.reason
            when 'reading_not_finite' then 'a stored reading is not a finite number'
            when 'reading_beyond_register' then 'a stored reading does not fit the register'
            when 'instant_before_2000' then 'a stored instant is before 2000-01-01'
            when 'instant_in_future' then 'a stored instant is more than a day after as_of'
            when 'meter_not_usable' then 'the meter''s multiplier or digits are not usable'
        end as details,
        h.reason as held_reason,
        h.point_id
    from energy.held_rows as h
    inner join marts.dim_energy_point as p using (point_id)
    left join staging.stg_energy_meters as m on m.meter_id = h.meter_id
),

follow_ups as (
    select point_id, rule, start_at, note, done, followed_up_by, followed_up_at
    from staging.stg_energy_exception_followups
    qualify row_number() over (
        partition by point_id, rule, start_at order by followed_up_at desc, followup_id desc
    ) = 1
),

exceptions as (
    select * from intervals
    union all by name
    select * from held
)

select
    e.*,
    f.followed_up_at,
    f.followed_up_by,
    f.note as follow_up_note,
    coalesce(f.done, false) as done
from exceptions as e
left join follow_ups as f
    on f.point_id = e.point_id and f.rule = e.rule and f.start_at = e.start_at
order by e.start_at, e.point_code
