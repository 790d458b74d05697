-- The breached SLA clocks (超时), latest-running first: what the SLA page lists when a manager
-- drills into a heat-map cell or the whole group. A copy of those rows of marts.sla_clocks, so
-- the list reads the breached clocks only (a few per cent of all clocks) instead of every clock.
-- clock_id: the clock's operational key (one row per clock). Kept incrementally: the rows of the
-- clocks in delta.sla_late_clocks (sql/changes/sla_late_clocks.sql).
-- incremental: clock_id
select
    document_no,
    office_code,
    discipline,
    document_type,
    clock,
    started_at,
    due_at,
    stopped_at,
    state,
    cast(late_minutes as double) as late_minutes,
    month,
    clock_id
from marts.sla_clocks as c
semi join delta.sla_late_clocks as d on d.clock_id = c.clock_id
where c.state = 'breached'
order by late_minutes desc, document_no
