-- The groups (office, discipline, document type, clock, month) whose row of marts.sla_compliance
-- may differ from the previous build's (docs/warehouse.md, Incremental marts): on a whole build
-- every group of marts.sla_clocks. Else the groups of the clock rows the SLA build deleted or
-- wrote after this mart's previous build (sla.clock_changes: the rows as they were and as they
-- are; a clock that moved or left a group changes both). The SLA step built more than once
-- since, or rebuilt whole, makes this mart whole.
select distinct office_code, discipline, document_type, clock, month
from marts.sla_clocks
where $full
union
select office_code, discipline, document_type, clock, month
from sla.clock_changes
where not $full and seq > $previous_seq
