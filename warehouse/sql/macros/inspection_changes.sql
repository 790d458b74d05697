-- The office-months whose inspection orders may count otherwise than at the previous build, for
-- the changes files of the incremental quality marts (sql/changes/quality_review.sql,
-- sql/changes/inspection_item_failures.sql; docs/quality-marts.md, "Refresh"): an order counts
-- in the office-local month of its scheduled day (which never changes) when that day has come by
-- as_of, and as executed with its item scores when submitted by as_of. So an order's figures can
-- differ only when
-- * it has events extracted since the mart's previous build (delta.new_events: a new order, a
--   move, a submission; its scores are re-extracted with it, docs/quality-marts.md);
-- * its scheduled day came after the previous as_of's office-local day, by this as_of's;
-- * it was submitted after the previous as_of, by this as_of.
-- Table macro changed_order_months(as_of, previous_as_of): office_code, month (DATE). Loaded by
-- the models naming it in a "-- macros: inspection_changes" line (warehouse/models.py).
create or replace temp macro changed_order_months(as_of, previous_as_of) as table (
    with

    offices as (
        select
            office_id,
            office_code,
            cast(timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', as_of)) as date)
                as today,
            cast(
                timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', previous_as_of))
                as date
            ) as previous_today
        from staging.stg_offices
    )

    select distinct
        offices.office_code,
        cast(date_trunc('month', orders.scheduled_for) as date) as month
    from staging.stg_inspection_orders as orders
    inner join offices on offices.office_id = orders.office_id
    where orders.order_id in (
            select document_id from delta.new_events where document_type = 'inspection'
        )
        or (orders.scheduled_for > offices.previous_today and orders.scheduled_for <= offices.today)
        or (orders.submitted_at > previous_as_of and orders.submitted_at <= as_of)
)
