-- How many lines tower_attention.sql pages through (same filters).
select count(*) as lines
from marts.control_tower as t
where in_scope(t.office_code)
    and t.level in ('office', 'point')
    and t.severity > 0
    and not (t.level = 'office' and t.indicator = 'energy_losses')  -- its points are listed
    and ($city_code = '' or t.city_code = $city_code)
