-- The control tower's rows of the offices in scope (docs/control-tower.md): of one city
-- company ($city_code; '' = every city) or of one office ($office_code; '' = every office),
-- the office's own indicators and, with $points, its metering points' (losses).
select t.level, t.node_code,
    case t.level when 'office' then o.office_name else t.detail end as name,
    t.group_code, t.city_code, o.city_name, t.office_code, o.office_name,
    t.indicator, t.detail, t.period_kind, t.period, t.period_end, t.in_progress, t.value,
    t.previous_period, t.previous_value, t.unit, t.basis, t.direction, t.threshold,
    t.alert_threshold, t.status, t.severity,
    t.score
from marts.control_tower as t
left join marts.dim_office as o on o.office_code = t.office_code
where in_scope(t.office_code)
    and (t.level = 'office' or ($points and t.level = 'point'))
    and ($city_code = '' or t.city_code = $city_code)
    and ($office_code = '' or t.office_code = $office_code)
order by t.office_code, t.level, t.node_code, t.indicator
