-- The groups (office, discipline, document type, clock, month) whose row of marts.sla_compliance
-- may differ from the previous build's (docs/warehouse.md, Incremental marts): on a whole build
-- every group of marts.sla_clocks. Else the groups of the clocks whose group or state the SLA
-- build changed after this mart's previous build: sla.clock_changes holds the rows it deleted
-- (as they were) and wrote, and a clock counts where its row as it was and as it is differ in
-- these columns (both groups when it moved; one that left or joined the marts, its one). A
-- clock recomputed only because it was still running, its group and state unchanged, changes
-- no count. The SLA step built more than once since, or rebuilt whole, makes this mart whole.
with

rows as (
    select written, clock_id, office_code, discipline, document_type, clock, month, state
    from sla.clock_changes
    where not $full and seq > $previous_seq
),

was as (select * exclude (written) from rows where not written),

is_now as (select * exclude (written) from rows where written),

differing as ((from was except from is_now) union all (from is_now except from was))

select distinct office_code, discipline, document_type, clock, month
from marts.sla_clocks
where $full
union
select office_code, discipline, document_type, clock, month
from differing
