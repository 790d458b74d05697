-- Management offices (管理处), each in its own time zone.
select
    cast(id as bigint) as office_id,
    cast(city_id as bigint) as city_id,
    cast(code as varchar) as office_code,
    cast(name as varchar) as office_name,
    cast(timezone as varchar) as timezone
from raw.org_office
