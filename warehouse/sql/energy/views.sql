-- The energy build's inputs, as views over the raw copies (rebuilt by every build; no values).
--
-- energy.effective_readings: every reading neither void nor superseded by a later row (a
-- correction or a withdrawal), typed. Raw instants arrive typed from both backends
-- (warehouse.extract), so the casts cost nothing and a refresh's time bounds reach the raw scan.
-- energy.readings / energy.meters: the same without the points the build holds
-- (energy.held_points: docs/energy-marts.md, "Held points"), which no interval, day or month
-- counts.

create or replace view energy.effective_readings as
select
    cast(r.id as bigint) as reading_id,
    cast(r.point_id as bigint) as point_id,
    cast(r.meter_id as bigint) as meter_id,
    cast(r.read_at as timestamp) as read_at,
    cast(r.reading as double) as reading,
    cast(r.flag as varchar) as flag
from raw.energy_reading as r
where not cast(r.void as boolean)
    and cast(r.id as bigint) not in (
        select cast(supersedes_id as bigint) from raw.energy_reading
        where supersedes_id is not null
    );

create or replace view energy.readings as
select * from energy.effective_readings
where point_id not in (select point_id from energy.held_points);

create or replace view energy.meters as
select * from staging.stg_energy_meters
where point_id not in (select point_id from energy.held_points);
