-- The clocks whose row of marts.sla_late_clocks may differ from the previous build's
-- (docs/warehouse.md, Incremental marts): on a whole build every breached clock. Else those the
-- SLA build rewrote after this mart's previous build (sla.clock_changes: each clock's row as it
-- was and as it is) whose row was or is breached and differs in a column of the list: newly
-- breached, no longer breached or gone, or breached and still running (its late_minutes grew).
-- A clock breached neither before nor now is not listed.
with

rows as (
    select
        written, clock_id, document_no, office_code, discipline, document_type, clock,
        started_at, due_at, stopped_at, state, late_minutes, month
    from sla.clock_changes
    where not $full and seq > $previous_seq and state = 'breached'
),

was as (select * exclude (written) from rows where not written),

is_now as (select * exclude (written) from rows where written),

differing as ((from was except from is_now) union all (from is_now except from was))

select clock_id
from marts.sla_clocks
where $full and state = 'breached'
union
select clock_id
from differing
