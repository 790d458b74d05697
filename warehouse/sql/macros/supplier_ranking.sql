-- The supplier ranking rule (docs/supplier-marts.md), written once: the table macro
-- supplier_ranking_of(offices) ranks the suppliers by the contracts of marts.contract_scores of
-- the offices listed (NULL: every office). marts.supplier_ranking is it over every office; the
-- dashboards' query (queries/supplier_ranking.sql) over the reader's offices, so a city
-- company's user ranks suppliers by their work for that city.
--
-- period_type 'month' (period 'YYYY-MM') or 'year' (period 'YYYY'). A supplier's month score is
-- the mean of its contracts' scores in that discipline that month, its year score the mean of
-- its month scores in that year, each rounded to 0.01 with halves away from zero (computed in
-- whole hundredths, exactly as operational.suppliers does). contracts: contracts scored in the
-- period; nonconformities, breach_points and deduction_amount (yuan, DECIMAL(18,2)) are sums.
-- rank within period and discipline: higher score first, then lower deduction_amount; still
-- equal, the same rank (1, 2, 2, 4). Loaded by the models and queries that name it in a
-- "-- macros: supplier_ranking" line (warehouse/models.py).
create or replace temp macro supplier_ranking_of(offices) as table (
    with

    contract_months as (
        select
            *,
            strftime(month, '%Y-%m') as month_text,
            cast(year(month) as varchar) as year_text,
            cast(score * 100 as bigint) as score_cents
        from marts.contract_scores
        where offices is null or list_contains(offices, office_code)
    ),

    monthly as (
        select
            month_text as period,
            year_text,
            discipline,
            supplier_code,
            count(distinct contract_no) as contracts,
            sum(score_cents) as cents,
            count(*) as scores,
            sum(nonconformities) as nonconformities,
            sum(breach_points) as breach_points,
            sum(deduction_amount) as deduction_amount
        from contract_months
        group by all
    ),

    monthly_means as (
        select
            *,
            case
                when cents >= 0 then (2 * cents + scores) // (2 * scores)
                else -((-2 * cents + scores) // (2 * scores))
            end as mean_cents
        from monthly
    ),

    yearly_scores as (
        select
            year_text as period,
            discipline,
            supplier_code,
            sum(mean_cents) as cents,
            count(*) as scores
        from monthly_means
        group by all
    ),

    yearly_totals as (
        select
            year_text as period,
            discipline,
            supplier_code,
            count(distinct contract_no) as contracts,
            sum(nonconformities) as nonconformities,
            sum(breach_points) as breach_points,
            sum(deduction_amount) as deduction_amount
        from contract_months
        group by all
    ),

    periods as (
        select
            'month' as period_type,
            period,
            discipline,
            supplier_code,
            contracts,
            mean_cents,
            nonconformities,
            breach_points,
            deduction_amount
        from monthly_means
        union all
        select
            'year' as period_type,
            yearly_totals.period,
            yearly_totals.discipline,
            yearly_totals.supplier_code,
            yearly_totals.contracts,
            case
                when yearly_scores.cents >= 0
                    then (2 * yearly_scores.cents + yearly_scores.scores) // (2 * yearly_scores.scores)
                else -((-2 * yearly_scores.cents + yearly_scores.scores) // (2 * yearly_scores.scores))
            end as mean_cents,
            yearly_totals.nonconformities,
            yearly_totals.breach_points,
            yearly_totals.deduction_amount
        from yearly_totals
        inner join yearly_scores
            on yearly_scores.period = yearly_totals.period
            and yearly_scores.discipline = yearly_totals.discipline
            and yearly_scores.supplier_code = yearly_totals.supplier_code
    ),

    final as (
        select
            periods.period_type,
            periods.period,
            periods.discipline,
            periods.supplier_code,
            suppliers.supplier_name,
            cast(periods.contracts as bigint) as contracts,
            cast(cast(periods.mean_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as score,
            cast(periods.nonconformities as bigint) as nonconformities,
            cast(periods.breach_points as bigint) as breach_points,
            cast(periods.deduction_amount as decimal(18, 2)) as deduction_amount
        from periods
        left join staging.stg_suppliers as suppliers on suppliers.supplier_code = periods.supplier_code
    )

    select
        *,
        rank() over (
            partition by period_type, period, discipline order by score desc, deduction_amount asc
        ) as rank
    from final
);
