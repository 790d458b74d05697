-- The breached SLA clocks (超时), latest-running first: what the SLA page lists when a manager
-- drills into a heat-map cell or the whole group. A copy of those rows of marts.sla_clocks, so
-- the list reads the breached clocks only (a few per cent of all clocks) instead of every clock.
-- Kept incrementally: the rows of the clocks in delta.sla_late_clocks
-- (sql/changes/sla_late_clocks.sql).
-- incremental: document_type, document_no, clock
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
    month
from marts.sla_clocks as c
semi join delta.sla_late_clocks as d
    on d.document_type = c.document_type
    and d.document_no is not distinct from c.document_no
    and d.clock = c.clock
where c.state = 'breached'
order by late_minutes desc, document_no
