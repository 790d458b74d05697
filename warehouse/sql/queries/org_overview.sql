-- The offices in scope with their city company and group (the organisation tree).
select group_code, group_name, city_code, city_name, office_code, office_name, timezone
from marts.dim_office
where in_scope(office_code)
order by city_code, office_code
