-- The quality review for internal audit (品质审核), one row per office, discipline, inspection
-- kind and office-local month with anything to count, at the build's as_of (raw.run_params).
-- kind: professional or quality for inspections and the nonconformities their failed items
-- opened; other for nonconformities not opened from an inspection item. plans_approved: approved
-- plans whose schedule covers a day of the month; orders_due: orders scheduled in the month up
-- to as_of's office-local day; orders_executed: those submitted by as_of; items_scored,
-- items_failed (below the pass mark), score_points and max_points over the executed orders'
-- items (summed from marts.inspection_item_failures), inspection_score = 100 × score_points ÷
-- max_points. nonconformities_opened and nonconformities_closed in the month (office-local),
-- closure_hours the hours from opening to closing of those closed; nc_clocks_met and
-- nc_clocks_breached: the nonconformities' completion clocks started in the month
-- (marts.sla_clocks), closure_compliance_pct = 100 × met ÷ (met + breached). Contract:
-- docs/quality-marts.md. Kept incrementally by office and month: the rows of the office-months
-- in delta.quality_review (sql/changes/quality_review.sql); whole when the offices, the go-live
-- history's nonconformities or the calendars (the clocks' deadlines) change.
-- incremental: office_code, month
-- whole when changed: staging.stg_offices, staging.stg_nonconformity_history
-- whole when changed: raw.org_calendar_interval, raw.org_calendar_day
-- whole when changed: raw.org_calendar_day_interval
-- macros: inspection_changes, plan_months
with

params as (select as_of from raw.run_params),

offices as (
    select
        offices.office_id,
        offices.office_code,
        coalesce(offices.timezone, 'Asia/Shanghai') as timezone,
        cast(
            timezone(coalesce(offices.timezone, 'Asia/Shanghai'), timezone('UTC', params.as_of))
            as date
        ) as today
    from staging.stg_offices as offices
    cross join params
),

-- The span of the months rebuilt (every month on a whole build): the plans and orders outside
-- it are left out before anything is joined or expanded (a refresh rebuilds a month or two, and
-- joining every order before keeping those of its months cost a pass over all of them).
span as (
    select
        min(month) as first_month,
        cast(max(month) + interval 1 month as date) as after_month
    from delta.quality_review
),

-- Approved plans, one row per month their schedule covers (from the later of their start and
-- their approval day, to their end or as_of's month) within the span: a plan running for years
-- is not expanded over every month to keep a refresh's one or two (512 500 months for 20 500
-- plans at 500 offices, to keep 20 500).
plan_months as (
    select
        offices.office_code,
        plans.discipline,
        plans.kind,
        cast(unnest(plan_schedule_months(
            greatest(plans.start_date, span.first_month),
            plans.end_date,
            plans.approved_at,
            offices.timezone,
            least(offices.today, cast(span.after_month - interval 1 day as date))
        )) as date) as month
    from staging.stg_inspection_plans as plans
    inner join offices on offices.office_id = plans.office_id
    cross join params
    cross join span
    where plans.state = 'approved'
        and plans.approved_at is not null
        and plans.approved_at <= params.as_of
        and plans.start_date < span.after_month
        and (plans.end_date is null or plans.end_date >= span.first_month)
),

plans as (
    select office_code, discipline, kind, month, count(*) as plans_approved
    from plan_months
    semi join delta.quality_review as d
        on d.office_code = plan_months.office_code and d.month = plan_months.month
    group by all
),

-- Orders scheduled up to today (office-local), executed if submitted by as_of.
orders as (
    select orders.*
    from (
        select
            orders.order_id,
            offices.office_code,
            orders.discipline,
            orders.kind,
            cast(date_trunc('month', orders.scheduled_for) as date) as month,
            orders.state = 'submitted' and orders.submitted_at <= params.as_of as executed
        from (
            select * from staging.stg_inspection_orders
            where scheduled_for >= (select first_month from span)
                and scheduled_for < (select after_month from span)
        ) as orders
        inner join offices on offices.office_id = orders.office_id
        cross join params
        where orders.scheduled_for <= offices.today
    ) as orders
    semi join delta.quality_review as d
        on d.office_code = orders.office_code and d.month = orders.month
),

inspections as (
    select
        office_code,
        discipline,
        kind,
        month,
        count(*) as orders_due,
        count(*) filter (where executed) as orders_executed
    from orders
    group by all
),

-- The executed orders' items, from marts.inspection_item_failures (its rows are those items by
-- name, over the same executed orders, kept by office and month as this mart): a refresh reads
-- the office-months it rebuilds there instead of finding their scores among all of them.
scored as (
    select
        items.office_code,
        items.discipline,
        items.kind,
        items.month,
        sum(items.items_scored) as items_scored,
        sum(items.items_failed) as items_failed,
        sum(items.score_points) as score_points,
        sum(items.max_points) as max_points
    from marts.inspection_item_failures as items
    semi join delta.quality_review as d
        on d.office_code = items.office_code and d.month = items.month
    group by all
),

-- The completion clocks of nonconformities started in a month rebuilt (in any office).
month_clocks as (
    select clocks.document_id as nonconformity_id, clocks.month, clocks.state
    from marts.sla_clocks as clocks
    where clocks.document_type like 'nonconformity_%' and clocks.clock = 'completion'
        and clocks.month in (select month from delta.quality_review)
),

-- The offices rebuilt, each with the earliest UTC instant a month of theirs rebuilt can begin
-- (a day early: any office-local day), so that only the nonconformities that can count in one
-- get their office-local months.
rebuilt as (
    select offices.office_id, min(cast(d.month as timestamp)) - interval 1 day as since
    from delta.quality_review as d
    inner join offices on offices.office_code = d.office_code
    group by offices.office_id
),

-- Each nonconformity opened by as_of that can count in a month rebuilt, with its office-local
-- months of opening and closing.
nc_rows as (
    select
        ncs.nonconformity_id,
        offices.office_code,
        ncs.discipline,
        cast(date_trunc('month', timezone(offices.timezone, timezone('UTC', ncs.opened_at)))
            as date) as opened_month,
        case when ncs.closed_at <= params.as_of then
            cast(date_trunc('month', timezone(offices.timezone, timezone('UTC', ncs.closed_at)))
                as date)
        end as closed_month,
        case when ncs.closed_at <= params.as_of then
            epoch_us(ncs.closed_at) - epoch_us(ncs.opened_at)
        end as closure_us
    from staging.stg_supplier_nonconformities as ncs
    inner join offices on offices.office_id = ncs.office_id
    inner join rebuilt on rebuilt.office_id = ncs.office_id
    cross join params
    where ncs.opened_at <= params.as_of
        and (
            ncs.opened_at >= rebuilt.since
            or ncs.closed_at >= rebuilt.since
            or ncs.nonconformity_id in (select nonconformity_id from month_clocks)
        )
),

-- Their completion clocks started in the office-months rebuilt.
nc_clocks as (
    select nc_rows.nonconformity_id, clocks.month, clocks.state
    from month_clocks as clocks
    inner join nc_rows on nc_rows.nonconformity_id = clocks.nonconformity_id
    semi join delta.quality_review as d
        on d.office_code = nc_rows.office_code and d.month = clocks.month
),

-- The nonconformities counted in the office-months rebuilt.
counted as (
    select nonconformity_id from nc_rows
    semi join delta.quality_review as d
        on d.office_code = nc_rows.office_code and d.month = nc_rows.opened_month
    union
    select nonconformity_id from nc_rows
    semi join delta.quality_review as d
        on d.office_code = nc_rows.office_code and d.month = nc_rows.closed_month
    union
    select nonconformity_id from nc_clocks
),

-- Each with the kind of the inspection whose failed item opened it (other: none), from the
-- items that opened one (staging.stg_inspection_nonconformity_links: 5 % of them).
raised_by as (
    select links.nonconformity_id, min(links.kind) as kind
    from staging.stg_inspection_nonconformity_links as links
    where links.nonconformity_id in (select nonconformity_id from counted)
    group by links.nonconformity_id
),

nonconformities as (
    select nc_rows.*, coalesce(raised_by.kind, 'other') as kind
    from nc_rows
    semi join counted on counted.nonconformity_id = nc_rows.nonconformity_id
    left join raised_by on raised_by.nonconformity_id = nc_rows.nonconformity_id
),

opened as (
    select office_code, discipline, kind, opened_month as month, count(*) as opened
    from nonconformities
    semi join delta.quality_review as d
        on d.office_code = nonconformities.office_code and d.month = nonconformities.opened_month
    group by all
),

closed as (
    select
        office_code,
        discipline,
        kind,
        closed_month as month,
        count(*) as closed,
        -- summed in whole microseconds: the same figure whichever rows a build sums first
        cast(sum(closure_us) as double) / 3600000000 as closure_hours
    from nonconformities
    semi join delta.quality_review as d
        on d.office_code = nonconformities.office_code and d.month = nonconformities.closed_month
    group by all
),

clocks as (
    select
        nonconformities.office_code,
        nonconformities.discipline,
        nonconformities.kind,
        nc_clocks.month,
        count(*) filter (where nc_clocks.state = 'met') as met,
        count(*) filter (where nc_clocks.state = 'breached') as breached
    from nc_clocks
    inner join nonconformities on nonconformities.nonconformity_id = nc_clocks.nonconformity_id
    group by all
),

keys as (
    select office_code, discipline, kind, month from plans
    union
    select office_code, discipline, kind, month from inspections
    union
    select office_code, discipline, kind, month from opened
    union
    select office_code, discipline, kind, month from closed
    union
    select office_code, discipline, kind, month from clocks
),

final as (
    select
        keys.office_code,
        keys.discipline,
        keys.kind,
        keys.month,
        cast(coalesce(plans.plans_approved, 0) as bigint) as plans_approved,
        cast(coalesce(inspections.orders_due, 0) as bigint) as orders_due,
        cast(coalesce(inspections.orders_executed, 0) as bigint) as orders_executed,
        case when inspections.orders_due > 0
            then 100.0 * inspections.orders_executed / inspections.orders_due
        end as execution_pct,
        cast(coalesce(scored.items_scored, 0) as bigint) as items_scored,
        cast(coalesce(scored.items_failed, 0) as bigint) as items_failed,
        cast(coalesce(scored.score_points, 0) as bigint) as score_points,
        cast(coalesce(scored.max_points, 0) as bigint) as max_points,
        case when scored.max_points > 0
            then 100.0 * scored.score_points / scored.max_points
        end as inspection_score,
        cast(coalesce(opened.opened, 0) as bigint) as nonconformities_opened,
        cast(coalesce(closed.closed, 0) as bigint) as nonconformities_closed,
        cast(coalesce(closed.closure_hours, 0) as double) as closure_hours,
        cast(coalesce(clocks.met, 0) as bigint) as nc_clocks_met,
        cast(coalesce(clocks.breached, 0) as bigint) as nc_clocks_breached,
        case when clocks.met + clocks.breached > 0
            then 100.0 * clocks.met / (clocks.met + clocks.breached)
        end as closure_compliance_pct
    from keys
    left join plans using (office_code, discipline, kind, month)
    left join inspections using (office_code, discipline, kind, month)
    left join scored using (office_code, discipline, kind, month)
    left join opened using (office_code, discipline, kind, month)
    left join closed using (office_code, discipline, kind, month)
    left join clocks using (office_code, discipline, kind, month)
)

select * from final
-- month first: what a refresh rewrites, the latest months, stays at the end of the table
order by month, office_code, discipline, kind
