-- The events creating or closing an order, with office, discipline and office-local month
-- (sla.order_events, read by marts.order_throughput). warehouse/sla.py fills the {name} slots
-- (which events and orders to read; the month expression of warehouse.sla._local_month).
with

-- the held documents' events are left out (held_documents.sql)
events as (
    select e.*
    from (
        select * from staging.stg_workflow_events
        where document_type in ('periodic_order', 'corrective_order')
            and (from_state is null or to_state = 'closed') {events_filter}
    ) as e
    anti join sla.held_documents as held
        on held.document_type = e.document_type and held.document_id = e.document_id
),

periodic as (select order_id, discipline from staging.stg_orders_periodic {periodic_filter}),

corrective as (select order_id, discipline from staging.stg_orders_corrective {corrective_filter}),

offices as (
    select offices.*, zones.offset_seconds
    from staging.stg_offices as offices
    left join sla.zone_offsets as zones on zones.timezone = offices.timezone
),

final as (
    select
        events.event_id,
        events.document_type,
        events.document_id,
        events.office_id,
        coalesce(periodic.discipline, corrective.discipline) as discipline,
        events.event_at,
        {event_month} as month,
        events.from_state is null as is_created,
        events.to_state = 'closed' and events.from_state is not null as is_closed
    from events
    -- each order table on its integer id (as the clock inputs); an event of neither is dropped
    left join periodic
        on events.document_type = 'periodic_order' and periodic.order_id = events.document_id
    left join corrective
        on events.document_type = 'corrective_order' and corrective.order_id = events.document_id
    inner join offices on offices.office_id = events.office_id
    where periodic.order_id is not null or corrective.order_id is not null
)

select * from final
