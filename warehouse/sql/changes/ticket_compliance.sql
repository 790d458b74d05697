-- The groups (office, ticket type, clock, month; the day and night rows both) whose rows of
-- marts.ticket_compliance may differ from the previous build's (docs/warehouse.md, Incremental
-- marts): on a whole build every group of the ticket clocks of marts.sla_clocks. Else the groups
-- of the ticket clocks whose group or state the SLA build changed after this mart's previous
-- build (sla.clock_changes: each clock's row as it was and as it is, compared on these columns,
-- as sql/changes/sla_compliance.sql). A ticket's night service is fixed at intake, so its clocks
-- alone decide.
with

rows as (
    select written, clock_id, office_code, document_type, clock, month, state
    from sla.clock_changes
    where not $full and seq > $previous_seq and document_type in ('inquiry', 'repair', 'complaint')
),

was as (select * exclude (written) from rows where not written),

is_now as (select * exclude (written) from rows where written),

differing as ((from was except from is_now) union all (from is_now except from was))

select distinct office_code, document_type as type, clock, month
from marts.sla_clocks
where $full and document_type in ('inquiry', 'repair', 'complaint')
union
select office_code, document_type, clock, month
from differing
