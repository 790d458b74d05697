-- The months an approved inspection plan's schedule covers (docs/quality-marts.md): from the
-- month of the later of its start and its office-local approval day, to the month of its end or
-- of as_of's office-local day (`today`), whichever is earlier — a list of TIMESTAMPs, one per
-- month's first day, to unnest. Used by marts.quality_review (plans_approved) and by its changes
-- file (the months a plan approved or moved since the previous build reaches). Loaded by the
-- models naming it in a "-- macros: plan_months" line (warehouse/models.py).
create or replace temp macro plan_schedule_months(start_date, end_date, approved_at, zone, today)
as generate_series(
    cast(date_trunc('month', greatest(
        start_date, cast(timezone(zone, timezone('UTC', approved_at)) as date)
    )) as timestamp),
    cast(date_trunc('month', least(coalesce(end_date, today), today)) as timestamp),
    interval 1 month
)
