-- The inspection items (检查项目) scored and failed, for internal audit's "which items fail
-- most": one row per office, discipline, inspection kind, office-local month (of the order's
-- scheduled date) and item name with anything scored, at the build's as_of (raw.run_params).
-- The orders counted are those marts.quality_review counts as executed (scheduled up to
-- as_of's office-local day, submitted by as_of); items_scored: the item's scores on them (the
-- inspections of that item), items_failed: of those, scored below the pass mark (each opened a
-- nonconformity); score_points and max_points: the points given and the maximum of the items
-- scored. Summed over item names these are quality_review's items_scored, items_failed,
-- score_points and max_points (it reads them here). Contract: docs/quality-marts.md. Kept
-- incrementally by office and month: the rows of the office-months in
-- delta.inspection_item_failures (sql/changes/inspection_item_failures.sql).
-- incremental: office_code, month
-- whole when changed: staging.stg_offices
-- macros: inspection_changes
with

params as (select as_of from raw.run_params),

offices as (
    select
        offices.office_id,
        offices.office_code,
        cast(
            timezone(coalesce(offices.timezone, 'Asia/Shanghai'), timezone('UTC', params.as_of))
            as date
        ) as today
    from staging.stg_offices as offices
    cross join params
),

-- The span of the months rebuilt (every month on a whole build): the orders outside it are left
-- out before anything is joined (a refresh rebuilds a month or two).
span as (
    select
        min(month) as first_month,
        cast(max(month) + interval 1 month as date) as after_month
    from delta.inspection_item_failures
),

-- The executed orders of the office-months rebuilt (every one on a whole build).
executed as (
    select orders.*
    from (
        select
            orders.order_id,
            offices.office_code,
            orders.discipline,
            orders.kind,
            cast(date_trunc('month', orders.scheduled_for) as date) as month
        from (
            select * from staging.stg_inspection_orders
            where scheduled_for >= (select first_month from span)
                and scheduled_for < (select after_month from span)
        ) as orders
        inner join offices on offices.office_id = orders.office_id
        cross join params
        where orders.scheduled_for <= offices.today
            and orders.state = 'submitted'
            and orders.submitted_at <= params.as_of
    ) as orders
    semi join delta.inspection_item_failures as d
        on d.office_code = orders.office_code and d.month = orders.month
)

select
    executed.office_code,
    executed.discipline,
    executed.kind,
    executed.month,
    scores.item_name,
    cast(count(scores.score) as bigint) as items_scored,
    cast(count(*) filter (where scores.score < scores.pass_mark) as bigint) as items_failed,
    cast(coalesce(sum(scores.score), 0) as bigint) as score_points,
    cast(coalesce(sum(scores.max_score) filter (where scores.score is not null), 0) as bigint)
        as max_points
from staging.stg_inspection_scores as scores
inner join executed on executed.order_id = scores.order_id
group by executed.office_code, executed.discipline, executed.kind, executed.month,
    scores.item_name
-- the items scored (counted after the join: a filter on the score was applied to every row of
-- the scan before the join's filter on the orders)
having count(scores.score) > 0
-- month first: a refresh deletes and appends the rows of the months it rebuilds (the latest), so
-- they stay together at the end of the table (docs/warehouse.md, Incremental marts)
order by executed.month, executed.office_code, executed.discipline, executed.kind,
    scores.item_name
