-- The office-months whose rows of marts.inspection_item_failures may differ from the previous
-- build's (docs/warehouse.md, Incremental marts; docs/quality-marts.md, "Refresh"): its rows
-- are the item scores of the orders executed by as_of, by the month of their scheduled day, so on
-- a whole build every office and month with an order; else the months of the orders with new
-- events, come due or submitted since the previous as_of (sql/macros/inspection_changes.sql).
select distinct
    offices.office_code, cast(date_trunc('month', orders.scheduled_for) as date) as month
from staging.stg_inspection_orders as orders
inner join staging.stg_offices as offices on offices.office_id = orders.office_id
where $full
union
select office_code, month
from changed_order_months($as_of, $previous_as_of)
where not $full
