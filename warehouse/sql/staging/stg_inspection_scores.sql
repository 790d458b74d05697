-- materialized: view
-- Inspection item scores (检查评分): one per order and item, the item's name, maximum score and
-- pass mark as copied when the order was issued; score null until scored; below the pass mark
-- the item failed, and nonconformity_id names the nonconformity opened for it.
select
    cast(id as bigint) as score_id,
    cast(order_id as bigint) as order_id,
    cast(item_id as bigint) as item_id,
    cast(name as varchar) as item_name,
    cast(max_score as integer) as max_score,
    cast(pass_mark as integer) as pass_mark,
    cast(score as integer) as score,
    cast(nonconformity_id as bigint) as nonconformity_id
from raw.insp_score
