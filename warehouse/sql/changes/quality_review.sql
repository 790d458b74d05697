-- The office-months whose rows of marts.quality_review may differ from the previous build's
-- (docs/warehouse.md, Incremental marts; docs/quality-marts.md, "Refresh"). On a whole build
-- every office and every month from the earliest instant any figure counts to as_of's month.
-- Else a month's figures can only have moved for
-- * inspection orders with new events, come due or submitted since the previous as_of
--   (sql/macros/inspection_changes.sql);
-- * approved plans: a plan with new events or approved after the previous as_of, over the
--   months its schedule covers (an approved plan never changes again: approval is its last
--   state); and, when as_of's office-local month is later than the previous as_of's, the new
--   months (an approved plan's schedule reaches to as_of's month);
-- * nonconformities with new events: the months of their opening, closing and completion
--   clocks, and of every event of theirs (what closed_at was: the service clears it when a
--   step sends a closed one back, and the closing event's month counted it); those referenced
--   by the scores of orders with new events (the kind of the inspection that opened them: a
--   score's link to its nonconformity reaches the warehouse with its order's next event);
--   those opened or closed after the previous as_of, or with events dated after it (a clock's
--   stop, pause or resume known only now) — the months of every event of theirs, which holds
--   the month their completion clock started in: it starts with their creating step
--   (docs/nonconformities.md, *Clocks*);
-- * completion clocks of nonconformities the SLA step wrote otherwise since this mart's previous
--   build (sla.clock_changes: each clock's row as it was and as it is, compared on the columns
--   its marts read, as sql/changes/sla_compliance.sql): started, stopped, or breached by the
--   time passing without any event, both the months they were in and are in.
-- The go-live history's nonconformities change without events: any change to them, to the
-- offices or to the calendars rebuilds the mart whole (its "whole when changed" lines).
with

offices as (
    select
        office_id,
        office_code,
        coalesce(timezone, 'Asia/Shanghai') as timezone,
        cast(timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', $as_of)) as date)
            as today,
        cast(
            timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', $previous_as_of))
            as date
        ) as previous_today
    from staging.stg_offices
),

-- The earliest month anything counts in (a day earlier for the office-local dates of instants).
first_month as (
    select date_trunc('month', least(
        (select min(scheduled_for) from staging.stg_inspection_orders),
        (select min(start_date) from staging.stg_inspection_plans),
        (select cast(min(opened_at) as date) - 1 from staging.stg_supplier_nonconformities),
        (
            select min(month) from marts.sla_clocks
            where document_type like 'nonconformity_%' and clock = 'completion'
        )
    )) as month
),

every_month as (
    select
        offices.office_code,
        cast(unnest(generate_series(
            cast(first_month.month as timestamp),
            cast(date_trunc('month', offices.today) as timestamp),
            interval 1 month
        )) as date) as month
    from offices
    cross join first_month
    where $full
),

plan_events as (
    select document_id from delta.new_events
    where document_type in ('professional_inspection_plan', 'quality_inspection_plan')
),

plan_months as (
    select
        offices.office_code,
        cast(unnest(plan_schedule_months(
            plans.start_date, plans.end_date, plans.approved_at, offices.timezone, offices.today
        )) as date) as month
    from staging.stg_inspection_plans as plans
    inner join offices on offices.office_id = plans.office_id
    where not $full
        and plans.state = 'approved'
        and plans.approved_at <= $as_of
        and (plans.plan_id in (select document_id from plan_events)
            or plans.approved_at > $previous_as_of)
),

new_months as (
    select
        office_code,
        cast(unnest(generate_series(
            cast(date_trunc('month', previous_today) + interval 1 month as timestamp),
            cast(date_trunc('month', today) as timestamp),
            interval 1 month
        )) as date) as month
    from offices
    where not $full and date_trunc('month', today) > date_trunc('month', previous_today)
),

nc_events as (
    select distinct document_id as nonconformity_id
    from delta.new_events
    where document_type like 'nonconformity_%'
),

touched as (
    select nonconformity_id from nc_events
    union
    select links.nonconformity_id
    from staging.stg_inspection_nonconformity_links as links
    where links.order_id in (
        select document_id from delta.new_events where document_type = 'inspection'
    )
    union
    select nonconformity_id
    from staging.stg_supplier_nonconformities
    where (opened_at > $previous_as_of and opened_at <= $as_of)
        or (closed_at > $previous_as_of and closed_at <= $as_of)
    union
    select document_id
    from staging.stg_workflow_events
    where document_type like 'nonconformity_%'
        and event_at > $previous_as_of and event_at <= $as_of
),

nc_months as (
    select offices.office_code, unnest([ncs.opened_at, ncs.closed_at]) as at
    from staging.stg_supplier_nonconformities as ncs
    inner join offices on offices.office_id = ncs.office_id
    where not $full and ncs.nonconformity_id in (select nonconformity_id from touched)
    union all
    select offices.office_code, events.event_at as at
    from staging.stg_workflow_events as events
    inner join offices on offices.office_id = events.office_id
    where not $full
        and events.document_type like 'nonconformity_%'
        and events.document_id in (select nonconformity_id from touched)
),

-- The clocks first, then their nonconformities' offices: joined first, all of them met the
-- nonconformities before the few that moved were kept.
moved_clocks as materialized (
    select changes.document_id, changes.month
    from sla.clock_changes as changes
    where not $full
        and changes.seq > $previous_seq
        and changes.document_type like 'nonconformity_%'
        and changes.clock = 'completion'
),

clock_months as (
    select offices.office_code, moved.month
    from moved_clocks as moved
    inner join staging.stg_supplier_nonconformities as ncs
        on ncs.nonconformity_id = moved.document_id
    inner join offices on offices.office_id = ncs.office_id
)

select office_code, month from every_month
union
select office_code, month from changed_order_months($as_of, $previous_as_of) where not $full
union
select office_code, month from plan_months
union
select office_code, month from new_months
union
select
    nc_months.office_code,
    cast(date_trunc('month', timezone(offices.timezone, timezone('UTC', nc_months.at))) as date)
from nc_months
inner join offices on offices.office_code = nc_months.office_code
where nc_months.at is not null
union
select office_code, month from clock_months
