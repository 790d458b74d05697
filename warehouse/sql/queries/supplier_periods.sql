-- The months and disciplines in which contracts of the reader's offices are scored
-- (marts.contract_scores), newest month first: what the ranking page offers to choose.
select distinct month, discipline
from marts.contract_scores
where in_scope(office_code)
order by month desc, discipline
