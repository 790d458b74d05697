-- Meter installations (仪表): one device at a point from installed_at to removed_at (UTC).
select
    cast(id as bigint) as meter_id,
    cast(point_id as bigint) as point_id,
    cast(serial as varchar) as serial,
    cast(multiplier as double) as multiplier,
    cast(digits as integer) as digits,
    cast(installed_at as timestamp) as installed_at,
    cast(initial_reading as double) as initial_reading,
    cast(removed_at as timestamp) as removed_at,
    cast(final_reading as double) as final_reading
from raw.energy_meter
