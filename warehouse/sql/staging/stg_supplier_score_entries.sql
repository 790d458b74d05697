-- The offices' manual supplier scores: signed points per contract, month (its first day) and
-- item (staffing shortfall 缺编, training, tools and materials, others).
select
    cast(contract_id as bigint) as contract_id,
    cast(date_trunc('month', cast(month as date)) as date) as month,
    cast(item as varchar) as item,
    cast(points as decimal(18, 2)) as points
from raw.supplier_score_entry
