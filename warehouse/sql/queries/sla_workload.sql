-- Per office in scope as of the build: open and overdue orders, closed in the last 30 days,
-- objects and plan coverage; most overdue first.
select w.office_code, o.office_name, w.open_orders, w.overdue_orders, w.closed_last_30d,
    w.objects, w.objects_without_plan, w.plan_coverage_pct
from marts.office_workload as w
left join marts.dim_office as o on o.office_code = w.office_code
where in_scope(w.office_code)
order by w.overdue_orders desc, w.open_orders desc, w.office_code
