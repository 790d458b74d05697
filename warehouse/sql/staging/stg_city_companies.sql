-- City companies (城市公司).
select
    cast(id as bigint) as city_id,
    cast(group_id as bigint) as group_id,
    cast(code as varchar) as city_code,
    cast(name as varchar) as city_name
from raw.org_city_company
