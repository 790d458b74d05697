-- Order throughput per office, discipline, document type and office-local month: orders created
-- (their creating event) and closed (an event entering 'closed') by the run's as_of.
with

params as (select as_of from raw.run_params),

offices as (select * from staging.stg_offices),

orders as (
    select 'periodic_order' as document_type, order_id, discipline
    from staging.stg_orders_periodic
    union all
    select 'corrective_order' as document_type, order_id, discipline
    from staging.stg_orders_corrective
),

events as (
    select events.*
    from staging.stg_workflow_events as events
    cross join params
    where events.document_type in ('periodic_order', 'corrective_order')
        and events.event_at <= params.as_of
        and (events.from_state is null or events.to_state = 'closed')
),

dated as (
    select
        offices.office_code,
        orders.discipline,
        events.document_type,
        cast(date_trunc('month', timezone(offices.timezone, timezone('UTC', events.event_at)))
            as date) as month,
        events.from_state is null as is_created,
        events.to_state = 'closed' and events.from_state is not null as is_closed
    from events
    inner join orders
        on orders.document_type = events.document_type and orders.order_id = events.document_id
    inner join offices on offices.office_id = events.office_id
),

final as (
    select
        office_code,
        discipline,
        document_type,
        month,
        count(*) filter (where is_created) as created,
        count(*) filter (where is_closed) as closed
    from dated
    group by office_code, discipline, document_type, month
)

select * from final
order by office_code, discipline, document_type, month
