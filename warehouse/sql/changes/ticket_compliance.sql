-- The groups (office, ticket type, clock, month; both day and night rows) whose rows of
-- marts.ticket_compliance may differ from the previous build's (docs/warehouse.md, Incremental
-- marts): on a whole build every group of the ticket clocks of marts.sla_clocks. Else the groups
-- of the ticket clock rows the SLA build deleted or wrote after this mart's previous build
-- (sla.clock_changes). A ticket's night service is fixed at intake, so its clocks alone decide.
select distinct office_code, document_type as type, clock, month
from marts.sla_clocks
where $full and document_type in ('inquiry', 'repair', 'complaint')
union
select office_code, document_type, clock, month
from sla.clock_changes
where not $full and seq > $previous_seq and document_type in ('inquiry', 'repair', 'complaint')
