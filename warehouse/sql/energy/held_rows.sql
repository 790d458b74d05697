-- The stored rows that make a metering point unusable for this build: the point is *held*
-- (no interval, day or month of it counts; its office sees each row as an exception
-- `point_held`) and the rest of the group is published. Rule: docs/energy-marts.md,
-- "Held points". Rows stored before the entry checks existed, or written around them.
--
-- Parameters:
--   $earliest   first acceptable instant (2000-01-01 00:00 UTC)
--   $latest     last acceptable instant (the build's as_of + 1 day, UTC)
--   $max_digits the largest register the product accepts (digits); a meter without digits is
--               held to that register
--   $all        every effective reading is examined (a full build, or an as_of earlier than
--               the last build's); otherwise only the readings past $watermark, those of the
--               points held by the last build and those on the meters of _digits_changed (a
--               reading examined once stays acceptable while as_of does not go back and its
--               meter's register does not change)
--   $watermark  the last reading id the previous build read
with

meters as (select * from staging.stg_energy_meters),

readings as (
    select r.*, m.digits
    from energy.effective_readings as r
    left join meters as m on m.meter_id = r.meter_id
    where $all
        or r.reading_id > $watermark
        or r.point_id in (select point_id from energy.held_points)
        -- a meter whose register was changed in place: its readings are examined again
        or r.meter_id in (select meter_id from _digits_changed)
),

bad_readings as (
    select
        point_id,
        'reading' as source,
        reading_id,
        meter_id,
        read_at as held_at,
        reading as value,
        digits,
        case
            when not isfinite(reading) then 'reading_not_finite'
            when read_at < $earliest then 'instant_before_2000'
            when read_at > $latest then 'instant_in_future'
            when reading < 0
                or reading >= pow(10, least(coalesce(digits, $max_digits), $max_digits))
                then 'reading_beyond_register'
        end as reason
    from readings
),

bad_meters as (
    select
        point_id,
        'meter' as source,
        cast(null as bigint) as reading_id,
        meter_id,
        installed_at as held_at,
        case
            when not isfinite(initial_reading) then initial_reading
            when not isfinite(coalesce(final_reading, 0)) then final_reading
            else initial_reading
        end as value,
        digits,
        case
            when multiplier is null or not isfinite(multiplier) or multiplier <= 0
                or (digits is not null and (digits < 1 or digits > $max_digits))
                then 'meter_not_usable'
            when not isfinite(initial_reading) or not isfinite(coalesce(final_reading, 0))
                then 'reading_not_finite'
            when installed_at < $earliest or removed_at < $earliest then 'instant_before_2000'
            when installed_at > $latest or removed_at > $latest then 'instant_in_future'
            when initial_reading < 0 or coalesce(final_reading, 0) < 0
                or initial_reading >= pow(10, coalesce(digits, $max_digits))
                or coalesce(final_reading, 0) >= pow(10, coalesce(digits, $max_digits))
                then 'reading_beyond_register'
        end as reason
    from meters
)

select point_id, source, reading_id, meter_id, held_at, value, digits, reason
from bad_readings where reason is not null
union all
select point_id, source, reading_id, meter_id, held_at, value, digits, reason
from bad_meters where reason is not null
