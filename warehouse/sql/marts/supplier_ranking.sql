-- One row per period, discipline and supplier (docs/supplier-marts.md): period_type 'month'
-- (period 'YYYY-MM') or 'year' (period 'YYYY'), from marts.contract_scores. A supplier's month
-- score is the mean of its contracts' scores in that discipline that month, its year score the
-- mean of its month scores in that year, each rounded to 0.01 with halves away from zero.
-- contracts: contracts scored in the period; nonconformities, breach_points and
-- deduction_amount (yuan, DECIMAL(18,2)) are sums. rank within period and discipline: higher
-- score first, then lower deduction_amount; still equal, the same rank (1, 2, 2, 4). The rule is
-- the macro supplier_ranking_of (sql/macros/supplier_ranking.sql) over every office.
-- macros: supplier_ranking
select *
from supplier_ranking_of(null)
order by period_type, period, discipline, rank, supplier_code
