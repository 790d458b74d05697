-- The SLA heat-map's first level: clocks met, breached and pending per city company × month,
-- summed over the offices in scope of each city company (its whole total when all of them
-- are) and over every discipline, for the months $first_month..$last_month and one document
-- type ($document_type; '' = all). compliance_pct = met ÷ (met + breached) × 100.
select
    o.city_code,
    any_value(o.city_name) as city_name,
    cast(count(distinct c.office_code) as bigint) as offices,
    c.month,
    cast(sum(c.total) as bigint) as total,
    cast(sum(c.met) as bigint) as met,
    cast(sum(c.breached) as bigint) as breached,
    cast(sum(c.pending) as bigint) as pending,
    case when sum(c.met) + sum(c.breached) > 0
        then 100.0 * sum(c.met) / (sum(c.met) + sum(c.breached)) end as compliance_pct
from marts.sla_compliance as c
inner join marts.dim_office as o on o.office_code = c.office_code
where in_scope(c.office_code)
    and c.month between $first_month and $last_month
    and ($document_type = '' or c.document_type = $document_type)
group by o.city_code, c.month
order by o.city_code, c.month
