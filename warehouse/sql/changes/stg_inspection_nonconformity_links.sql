-- The inspection orders whose rows of staging.stg_inspection_nonconformity_links may differ from
-- the previous build's (docs/warehouse.md, Incremental marts): on a whole build every order;
-- else the orders with events extracted since this table's previous build — their item scores,
-- and the links among them, were re-extracted with those events; no other order's were.
select order_id from staging.stg_inspection_orders where $full
union all
select distinct document_id
from delta.new_events
where not $full and document_type = 'inspection'
