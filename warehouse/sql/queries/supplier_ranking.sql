-- The supplier ranking of the reader's offices (docs/supplier-marts.md, "Reads"): the rule of
-- marts.supplier_ranking (the macro supplier_ranking_of, sql/macros/supplier_ranking.sql) over
-- the contracts of the offices in scope only, so a city company's user ranks suppliers by their
-- work for that city; for the whole group it equals the mart. A supplier user's reader keeps its
-- own supplier's rows (its rank among the suppliers of its offices). $period_type 'month'
-- (periods 'YYYY-MM') or 'year' ('YYYY'); $period one period ('' = every period); $discipline
-- one discipline ('' = every one).
-- macros: supplier_ranking
select ranking.*
from supplier_ranking_of(
    (
        select coalesce(list(office_code), []::varchar[])
        from marts.dim_office
        where in_scope(office_code)
    )
) as ranking
where ranking.period_type = $period_type
    and ($period = '' or ranking.period = $period)
    and ($discipline = '' or ranking.discipline = $discipline)
    and supplier_in_scope(ranking.supplier_code)
order by ranking.period_type, ranking.period desc, ranking.discipline, ranking.rank,
    ranking.supplier_code
