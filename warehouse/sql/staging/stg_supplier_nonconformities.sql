-- materialized: view
-- Nonconformities (不合格提示单 notice, 不合格处理单 handling, 纠正预防单 corrective_preventive):
-- office, discipline, opened and closed instants (UTC), and for one raised against a supplier
-- its contract and breach points (违约扣分).
select
    cast(id as bigint) as nonconformity_id,
    cast(nc_no as varchar) as nc_no,
    cast(office_id as bigint) as office_id,
    cast(kind as varchar) as kind,
    cast(discipline as varchar) as discipline,
    cast(opened_at as timestamp) as opened_at,
    cast(closed_at as timestamp) as closed_at,
    cast(contract_id as bigint) as contract_id,
    cast(breach_points as integer) as breach_points
from raw.supplier_nonconformity
