-- The months, disciplines and kinds of the quality review in scope (marts.quality_review):
-- what the quality review page offers to choose from, newest month first.
select distinct review.month, review.discipline, review.kind
from marts.quality_review as review
where in_scope(review.office_code)
order by review.month desc, review.discipline, review.kind
