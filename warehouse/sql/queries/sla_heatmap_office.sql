-- The SLA heat-map's second level: clocks met, breached and pending per office × month over
-- every discipline, for the offices in scope of one city company ($city_code; '' = all), the
-- months $first_month..$last_month and one document type ($document_type; '' = all).
select
    c.office_code,
    any_value(o.office_name) as office_name,
    any_value(o.city_code) as city_code,
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
    and ($city_code = '' or o.city_code = $city_code)
    and c.month between $first_month and $last_month
    and ($document_type = '' or c.document_type = $document_type)
group by c.office_code, c.month
order by c.office_code, c.month
