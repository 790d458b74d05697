-- SLA compliance (时效达标率) per office, discipline, document type, clock and office-local month
-- in which the clock started. compliance_pct = 100 × met ÷ (met + breached); NULL when both are 0.
-- Every clock of marts.sla_clocks is counted exactly once (a blocking check compares the totals).
-- Kept incrementally: the rows of the groups in delta.sla_compliance (sql/changes/sla_compliance.sql).
-- incremental: office_code, discipline, document_type, clock, month
with

clocks as (
    select c.*
    from marts.sla_clocks as c
    semi join delta.sla_compliance as d
        on d.office_code = c.office_code
        and d.discipline is not distinct from c.discipline
        and d.document_type = c.document_type
        and d.clock = c.clock
        and d.month = c.month
),

counted as (
    select
        office_code,
        discipline,
        document_type,
        clock,
        month,
        count(*) as total,
        count(*) filter (where state = 'met') as met,
        count(*) filter (where state = 'breached') as breached,
        count(*) filter (where state = 'pending') as pending
    from clocks
    group by office_code, discipline, document_type, clock, month
),

final as (
    select
        office_code,
        discipline,
        document_type,
        clock,
        month,
        total,
        met,
        breached,
        pending,
        case when met + breached > 0 then 100.0 * met / (met + breached) end as compliance_pct
    from counted
)

select * from final
order by office_code, discipline, document_type, clock, month
