-- Deduction standards (供方扣款标准): per contract, what a number of breach points costs in yuan.
select
    cast(contract_id as bigint) as contract_id,
    cast(points as integer) as points,
    cast(amount as decimal(18, 2)) as amount
from raw.supplier_deduction_standard
