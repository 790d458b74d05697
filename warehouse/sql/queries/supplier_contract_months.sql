-- The scored months of the contracts of the reader's offices (marts.contract_scores), with the
-- office's and the supplier's names: one supplier's ($supplier_code), one contract's
-- ($contract_no), one discipline's, one office's ('' = any), months $start … $end (first days).
select
    scores.contract_no,
    scores.supplier_code,
    suppliers.supplier_name,
    scores.office_code,
    offices.office_name,
    scores.discipline,
    scores.month,
    scores.nonconformities,
    scores.breach_points,
    scores.deduction_amount,
    scores.manual_points,
    scores.score
from marts.contract_scores as scores
left join marts.dim_office as offices on offices.office_code = scores.office_code
left join staging.stg_suppliers as suppliers on suppliers.supplier_code = scores.supplier_code
where in_scope(scores.office_code)
    and supplier_in_scope(scores.supplier_code)
    and ($supplier_code = '' or scores.supplier_code = $supplier_code)
    and ($contract_no = '' or scores.contract_no = $contract_no)
    and ($discipline = '' or scores.discipline = $discipline)
    and ($office_code = '' or scores.office_code = $office_code)
    and scores.month between $start and $end
order by scores.contract_no, scores.month desc
