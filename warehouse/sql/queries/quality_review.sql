-- The quality review (marts.quality_review, docs/quality-marts.md) of the offices in scope,
-- filtered to one city company ($city_code), office, discipline, kind ('' = any) and the months
-- $start … $end (first days), summed per office ($by_office), per month ($by_month) and per
-- discipline and kind ($by_discipline); a key not grouped by is null. Percentages, the score
-- and the mean closure time are recomputed from the summed counts. plans_approved: the most
-- plans approved in any one month of the rows summed (a plan counts once per month).
with

rows as (
    select
        review.*,
        offices.city_code,
        offices.city_name,
        offices.office_name
    from marts.quality_review as review
    inner join marts.dim_office as offices on offices.office_code = review.office_code
    where in_scope(review.office_code)
        and ($city_code = '' or offices.city_code = $city_code)
        and ($office_code = '' or review.office_code = $office_code)
        and ($discipline = '' or review.discipline = $discipline)
        and ($kind = '' or review.kind = $kind)
        and review.month between $start and $end
),

keyed as (
    select
        case when $by_office then city_code end as city_code,
        case when $by_office then city_name end as city_name,
        case when $by_office then office_code end as office_code,
        case when $by_office then office_name end as office_name,
        case when $by_month then month end as month,
        case when $by_discipline then discipline end as discipline,
        case when $by_discipline then kind end as kind,
        month as row_month,
        plans_approved,
        orders_due,
        orders_executed,
        items_scored,
        items_failed,
        score_points,
        max_points,
        nonconformities_opened,
        nonconformities_closed,
        closure_hours,
        nc_clocks_met,
        nc_clocks_breached
    from rows
),

monthly_plans as (
    select city_code, office_code, month, discipline, kind, row_month, sum(plans_approved) as plans
    from keyed
    group by all
),

plans as (
    select city_code, office_code, month, discipline, kind, max(plans) as plans_approved
    from monthly_plans
    group by all
),

summed as (
    select
        city_code,
        any_value(city_name) as city_name,
        office_code,
        any_value(office_name) as office_name,
        month,
        discipline,
        kind,
        sum(orders_due) as orders_due,
        sum(orders_executed) as orders_executed,
        sum(items_scored) as items_scored,
        sum(items_failed) as items_failed,
        sum(score_points) as score_points,
        sum(max_points) as max_points,
        sum(nonconformities_opened) as nonconformities_opened,
        sum(nonconformities_closed) as nonconformities_closed,
        sum(closure_hours) as closure_hours,
        sum(nc_clocks_met) as nc_clocks_met,
        sum(nc_clocks_breached) as nc_clocks_breached
    from keyed
    group by city_code, office_code, month, discipline, kind
)

select
    summed.city_code,
    summed.city_name,
    summed.office_code,
    summed.office_name,
    summed.month,
    summed.discipline,
    summed.kind,
    cast(coalesce(plans.plans_approved, 0) as bigint) as plans_approved,
    cast(summed.orders_due as bigint) as orders_due,
    cast(summed.orders_executed as bigint) as orders_executed,
    case when summed.orders_due > 0
        then 100.0 * summed.orders_executed / summed.orders_due end as execution_pct,
    cast(summed.items_scored as bigint) as items_scored,
    cast(summed.items_failed as bigint) as items_failed,
    case when summed.items_scored > 0
        then 100.0 * summed.items_failed / summed.items_scored end as failed_pct,
    case when summed.max_points > 0
        then 100.0 * summed.score_points / summed.max_points end as inspection_score,
    cast(summed.nonconformities_opened as bigint) as nonconformities_opened,
    cast(summed.nonconformities_closed as bigint) as nonconformities_closed,
    case when summed.nonconformities_closed > 0
        then summed.closure_hours / summed.nonconformities_closed end as mean_closure_hours,
    cast(summed.nc_clocks_met as bigint) as nc_clocks_met,
    cast(summed.nc_clocks_breached as bigint) as nc_clocks_breached,
    case when summed.nc_clocks_met + summed.nc_clocks_breached > 0
        then 100.0 * summed.nc_clocks_met / (summed.nc_clocks_met + summed.nc_clocks_breached)
    end as closure_compliance_pct
from summed
left join plans
    on plans.city_code is not distinct from summed.city_code
    and plans.office_code is not distinct from summed.office_code
    and plans.month is not distinct from summed.month
    and plans.discipline is not distinct from summed.discipline
    and plans.kind is not distinct from summed.kind
order by summed.city_code, summed.office_code, summed.month, summed.discipline, summed.kind
