-- The breached SLA clocks (超时), latest-running first: what the SLA page lists when a manager
-- drills into a heat-map cell or the whole group. A copy of those rows of marts.sla_clocks, so
-- the list reads the breached clocks only (a few per cent of all clocks) instead of every clock.
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
from marts.sla_clocks
where state = 'breached'
order by late_minutes desc, document_no
