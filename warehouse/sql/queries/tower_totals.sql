-- The control tower's totals the reader may see (docs/control-tower.md): the group's when
-- every office of the group is in scope, a city company's when all its offices are.
with

cities as (select distinct group_code, city_code, city_name from marts.dim_office),

groups as (select distinct group_code, group_name from marts.dim_office)

select t.level, t.node_code,
    case t.level when 'group' then g.group_name else c.city_name end as name,
    t.group_code, t.city_code, c.city_name, t.office_code, cast(null as varchar) as office_name,
    t.indicator, t.detail, t.period_kind, t.period, t.period_end, t.in_progress, t.value,
    t.previous_period, t.previous_value, t.unit, t.basis, t.direction, t.threshold,
    t.alert_threshold, t.status, t.severity,
    t.score
from marts.control_tower as t
left join cities as c on c.city_code = t.city_code
left join groups as g on g.group_code = t.group_code
where (t.level = 'group' and group_in_scope(t.group_code))
    or (t.level = 'city' and city_in_scope(t.city_code))
order by t.level desc, t.node_code, t.indicator
