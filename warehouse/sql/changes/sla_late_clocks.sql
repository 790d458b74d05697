-- The clocks (document type, document number, clock: every run of that clock of the document)
-- whose rows of marts.sla_late_clocks may differ from the previous build's (docs/warehouse.md,
-- Incremental marts): on a whole build every breached clock. Else those of the clock rows the
-- SLA build deleted or wrote after this mart's previous build (sla.clock_changes): breached
-- now or before, or neither (then nothing is deleted or written).
select distinct document_type, document_no, clock
from marts.sla_clocks
where $full and state = 'breached'
union
select document_type, document_no, clock
from sla.clock_changes
where not $full and seq > $previous_seq
