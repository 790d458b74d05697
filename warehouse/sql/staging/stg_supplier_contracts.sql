-- Supplier contracts (供方合同): one supplier, office and discipline; the period (both days
-- included) and the contract amount in yuan (DECIMAL(18,2)).
select
    cast(id as bigint) as contract_id,
    cast(contract_no as varchar) as contract_no,
    cast(supplier_id as bigint) as supplier_id,
    cast(office_id as bigint) as office_id,
    cast(discipline as varchar) as discipline,
    cast(starts_on as date) as starts_on,
    cast(ends_on as date) as ends_on,
    cast(amount as decimal(18, 2)) as amount
from raw.supplier_contract
