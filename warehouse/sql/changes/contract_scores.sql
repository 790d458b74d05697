-- The contract-months whose rows of marts.contract_scores may differ from the previous build's
-- (docs/warehouse.md, Incremental marts; docs/supplier-marts.md, "Refresh"). On a whole build
-- every month of every contract from its first month to as_of's (in its office's time zone).
-- Else, with P the previous as_of and A this one (A ≥ P, or the build is whole), a row reads its
-- contract, supplier, office, deduction standard and score entries (any change to those tables
-- rebuilds the mart whole: its "whole when changed" lines), the go-live history's
-- nonconformities (likewise), and the nonconformities naming the contract opened in the month by
-- as_of. So a month's row can only have moved
-- * when as_of's office-local month is later than P's: the months begun since appear;
-- * for a nonconformity with events extracted since the previous build (delta.new_events: a
--   new one, its contract or points set or changed) or opened in (P, A] (it counts now and did
--   not then): the month of its opening at its contract and at every contract of its office
--   and discipline (one it was moved from).
with

offices as (
    select
        office_id,
        coalesce(timezone, 'Asia/Shanghai') as timezone,
        cast(date_trunc(
            'month', timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', $as_of))
        ) as date) as this_month,
        cast(date_trunc(
            'month',
            timezone(coalesce(timezone, 'Asia/Shanghai'), timezone('UTC', $previous_as_of))
        ) as date) as previous_month
    from staging.stg_offices
),

contracts as (
    select
        contracts.contract_id,
        contracts.contract_no,
        contracts.office_id,
        contracts.discipline,
        offices.timezone,
        offices.previous_month,
        cast(date_trunc('month', contracts.starts_on) as date) as first_month,
        least(cast(date_trunc('month', contracts.ends_on) as date), offices.this_month)
            as last_month
    from staging.stg_supplier_contracts as contracts
    inner join offices on offices.office_id = contracts.office_id
),

every_month as (
    select
        contract_no,
        cast(unnest(generate_series(
            cast(first_month as timestamp), cast(last_month as timestamp), interval 1 month
        )) as date) as month
    from contracts
    where $full and first_month <= last_month
),

new_months as (
    select
        contract_no,
        cast(unnest(generate_series(
            cast(greatest(first_month, previous_month + interval 1 month) as timestamp),
            cast(last_month as timestamp),
            interval 1 month
        )) as date) as month
    from contracts
    where not $full and last_month > previous_month
),

touched as (
    select document_id as nonconformity_id
    from delta.new_events
    where document_type like 'nonconformity_%'
    union
    select nonconformity_id
    from staging.stg_supplier_nonconformities
    where opened_at > $previous_as_of and opened_at <= $as_of
),

ncs as (
    select nonconformity_id, office_id, discipline, contract_id, opened_at
    from staging.stg_supplier_nonconformities
    where not $full and nonconformity_id in (select nonconformity_id from touched)
),

nc_contracts as (
    select contracts.contract_no, contracts.timezone, ncs.opened_at
    from ncs
    inner join contracts on contracts.contract_id = ncs.contract_id
    union all
    select contracts.contract_no, contracts.timezone, ncs.opened_at
    from ncs
    inner join contracts
        on contracts.office_id = ncs.office_id and contracts.discipline = ncs.discipline
)

select contract_no, month from every_month
union
select contract_no, month from new_months
union
select
    contract_no,
    cast(date_trunc('month', timezone(timezone, timezone('UTC', opened_at))) as date) as month
from nc_contracts
