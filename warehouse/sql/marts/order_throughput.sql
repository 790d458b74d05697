-- Order throughput per office, discipline, document type and office-local month: orders created
-- (their creating event) and closed (an event entering 'closed') by the run's as_of.
-- sla.order_events holds those events of every order, with discipline and office-local month;
-- warehouse/sla.py keeps it (appending each build's new events), so this is a group-by.
with

params as (select as_of from raw.run_params),

offices as (select * from staging.stg_offices),

events as (
    select order_events.*
    from sla.order_events as order_events
    cross join params
    where order_events.event_at <= params.as_of
),

final as (
    select
        offices.office_code,
        events.discipline,
        events.document_type,
        events.month,
        count(*) filter (where events.is_created) as created,
        count(*) filter (where events.is_closed) as closed
    from events
    inner join offices on offices.office_id = events.office_id
    group by offices.office_code, events.discipline, events.document_type, events.month
)

select * from final
order by office_code, discipline, document_type, month
