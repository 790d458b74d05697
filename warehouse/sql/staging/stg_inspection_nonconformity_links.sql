-- The inspection items that opened a nonconformity (检查项开出的不合格单): one row per item scored
-- below its pass mark whose nonconformity was opened from it — the nonconformity_id, the
-- order_id whose item it was and that order's kind (professional or quality). How
-- marts.quality_review gives a nonconformity the kind of the inspection that raised it, and
-- finds the nonconformities an order's new event links: 5 % of the item scores, read here
-- instead of among all of them (docs/quality-marts.md, "Refresh").
-- Kept incrementally by order: an order's item scores change in the warehouse only with an event
-- of the order (they are re-extracted with it, docs/warehouse.md), so a refresh reads again the
-- links of the orders with new events (sql/changes/stg_inspection_nonconformity_links.sql).
-- incremental: order_id
select scores.order_id, scores.nonconformity_id, orders.kind
from staging.stg_inspection_scores as scores
inner join staging.stg_inspection_orders as orders on orders.order_id = scores.order_id
where scores.nonconformity_id is not null
    and scores.order_id in (select order_id from delta.stg_inspection_nonconformity_links)
