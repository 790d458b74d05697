-- One row per supplier contract and month it scores (docs/supplier-marts.md): every month in which
-- the contract is active on at least one day and that has begun, in the office's time zone, by
-- the build's as_of (raw.run_params). nonconformities: those naming the contract opened in that
-- office-local month, by as_of; breach_points their points; deduction_amount what the points
-- cost in the contract's deduction standard (yuan, DECIMAL(18,2)); manual_points the office's
-- signed points of the month; score = 100 - breach_points + manual_points (100 for an empty
-- month). month is the month's first day. Kept incrementally by contract and month: the rows
-- of the contract-months in delta.contract_scores (sql/changes/contract_scores.sql); whole when
-- the contracts, suppliers, offices, deduction standards, score entries or the go-live history's
-- nonconformities change.
-- incremental: contract_no, month
-- whole when changed: staging.stg_supplier_contracts, staging.stg_suppliers, staging.stg_offices
-- whole when changed: staging.stg_supplier_deduction_standards
-- whole when changed: staging.stg_supplier_score_entries, staging.stg_nonconformity_history
with

params as (select as_of from raw.run_params),

contracts as (
    select
        contracts.contract_id,
        contracts.contract_no,
        suppliers.supplier_code,
        offices.office_code,
        offices.timezone,
        contracts.discipline,
        cast(date_trunc('month', contracts.starts_on) as date) as first_month,
        least(
            cast(date_trunc('month', contracts.ends_on) as date),
            cast(date_trunc('month', timezone(offices.timezone, timezone('UTC', params.as_of)))
                as date)
        ) as last_month
    from staging.stg_supplier_contracts as contracts
    inner join staging.stg_suppliers as suppliers on suppliers.supplier_id = contracts.supplier_id
    inner join staging.stg_offices as offices on offices.office_id = contracts.office_id
    cross join params
),

months as (
    select
        contracts.*,
        cast(unnest(generate_series(
            cast(contracts.first_month as timestamp),
            cast(contracts.last_month as timestamp),
            interval 1 month
        )) as date) as month
    from contracts
    where contracts.first_month <= contracts.last_month
        and contracts.contract_no in (select contract_no from delta.contract_scores)
),

-- The contract-months this build writes (every one on a whole build).
kept_months as (
    select months.*
    from months
    semi join delta.contract_scores as d
        on d.contract_no = months.contract_no and d.month = months.month
),

breaches as (
    select
        nonconformities.contract_id,
        cast(date_trunc(
            'month', timezone(contracts.timezone, timezone('UTC', nonconformities.opened_at))
        ) as date) as month,
        count(*) as nonconformities,
        coalesce(sum(nonconformities.breach_points), 0) as breach_points,
        coalesce(sum(standards.amount), 0) as deduction_amount
    from staging.stg_supplier_nonconformities as nonconformities
    inner join contracts on contracts.contract_id = nonconformities.contract_id
    left join staging.stg_supplier_deduction_standards as standards
        on standards.contract_id = nonconformities.contract_id
        and standards.points = nonconformities.breach_points
    cross join params
    where nonconformities.opened_at <= params.as_of
        -- only the nonconformities that may fall in a month written (a day's margin for the
        -- office's time zone): a refresh converts a day's, not every one's, opening instant
        and nonconformities.opened_at
            >= (select min(month) from delta.contract_scores) - interval 1 day
        and contracts.contract_no in (select contract_no from delta.contract_scores)
    group by all
),

manual as (
    select contract_id, month, sum(points) as manual_points
    from staging.stg_supplier_score_entries
    group by all
),

final as (
    select
        months.contract_no,
        months.supplier_code,
        months.office_code,
        months.discipline,
        months.month,
        cast(coalesce(breaches.nonconformities, 0) as bigint) as nonconformities,
        cast(coalesce(breaches.breach_points, 0) as bigint) as breach_points,
        cast(coalesce(breaches.deduction_amount, 0) as decimal(18, 2)) as deduction_amount,
        cast(coalesce(manual.manual_points, 0) as decimal(18, 2)) as manual_points,
        cast(
            100 - coalesce(breaches.breach_points, 0) + coalesce(manual.manual_points, 0)
            as decimal(18, 2)
        ) as score
    from kept_months as months
    left join breaches
        on breaches.contract_id = months.contract_id and breaches.month = months.month
    left join manual on manual.contract_id = months.contract_id and manual.month = months.month
)

select * from final
order by contract_no, month
