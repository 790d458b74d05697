-- The SLA heat-map: clocks met, breached and pending per office × discipline × office-local
-- month of the offices in scope (or of one office: $office_code; '' = all), over the months
-- $first_month..$last_month and one document type ($document_type; '' = all).
-- compliance_pct = met ÷ (met + breached) × 100.
select
    c.office_code,
    o.office_name,
    c.discipline,
    c.month,
    cast(sum(c.total) as bigint) as total,
    cast(sum(c.met) as bigint) as met,
    cast(sum(c.breached) as bigint) as breached,
    cast(sum(c.pending) as bigint) as pending,
    case when sum(c.met) + sum(c.breached) > 0
        then 100.0 * sum(c.met) / (sum(c.met) + sum(c.breached)) end as compliance_pct
from marts.sla_compliance as c
left join marts.dim_office as o on o.office_code = c.office_code
where in_scope(c.office_code)
    and ($office_code = '' or c.office_code = $office_code)
    and c.month between $first_month and $last_month
    and ($document_type = '' or c.document_type = $document_type)
group by c.office_code, o.office_name, c.discipline, c.month
order by c.office_code, c.discipline, c.month
