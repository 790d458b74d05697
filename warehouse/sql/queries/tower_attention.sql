-- The control tower's "needs attention" list (docs/control-tower.md): the indicators of the
-- offices in scope and of their metering points whose status is alert or watch, alerts first,
-- then by how far past their threshold (an office's count of lossy meters is left out: the
-- meters themselves are listed); of one city company ($city_code; '' = every city);
-- a page of $limit rows from row $offset.
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
    and t.level in ('office', 'point')
    and t.severity > 0
    and not (t.level = 'office' and t.indicator = 'energy_losses')  -- its points are listed
    and ($city_code = '' or t.city_code = $city_code)
order by t.severity desc, t.score desc nulls last, t.office_code, t.indicator, t.node_code
limit $limit offset $offset
