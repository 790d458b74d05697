-- The city companies and groups whose every office is in scope: the totals above an office
-- the reader may see (level 'city' or 'group', code, name).
select distinct 'group' as level, group_code as code, group_name as name
from marts.dim_office
where group_in_scope(group_code)
union all
select distinct 'city', city_code, city_name
from marts.dim_office
where city_in_scope(city_code)
order by level desc, code
