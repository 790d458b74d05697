-- The months and disciplines in which contracts of the reader's offices are scored
-- (marts.contract_scores), newest month first: what the ranking page offers to choose (a
-- supplier user's reader: the months of its own supplier's contracts).
select distinct month, discipline
from marts.contract_scores
where in_scope(office_code)
    and supplier_in_scope(supplier_code)
order by month desc, discipline
