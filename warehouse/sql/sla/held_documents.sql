-- Documents the SLA build holds out: a document with an instant before 2000-01-01 ($earliest) —
-- an event, an order's creation, scheduled day or work start, a clock's stored start, deadline or
-- stop — is left out of every SLA mart (its clocks and its order events) and listed in
-- marts.held_documents for its office, instead of stretching the months the pages span (an order
-- dated 1900: 1 500 months) or failing the build. Rule: docs/sla-marts.md ("Held documents").
-- Instants after as_of need no hold: a build counts only what is known by its as_of (a clock not
-- started by then is left out, a later stop or event is not seen), so they stretch nothing, and
-- a build at an earlier as_of sees the same documents.
--
-- One row per document: document_type, document_id, office_id, office_code, document_no,
-- held_at (its earliest instant out of bounds), reason ('instant_before_2000').
with

instants as (
    select
        events.document_type, events.document_id, events.office_id, events.event_at as held_at
    from staging.stg_workflow_events as events
    where events.event_at < $earliest::timestamp
    union all
    select 'periodic_order', orders.order_id, orders.office_id, orders.created_at
    from staging.stg_orders_periodic as orders
    where orders.created_at < $earliest::timestamp
    union all
    select 'periodic_order', orders.order_id, orders.office_id,
        least(orders.work_starts_at, cast(orders.scheduled_for as timestamp))
    from staging.stg_orders_periodic as orders
    where orders.work_starts_at < $earliest::timestamp
        or cast(orders.scheduled_for as timestamp) < $earliest::timestamp
    union all
    select 'corrective_order', orders.order_id, orders.office_id, orders.created_at
    from staging.stg_orders_corrective as orders
    where orders.created_at < $earliest::timestamp
    union all
    select 'inspection', orders.order_id, orders.office_id,
        least(orders.created_at, orders.work_starts_at, cast(orders.scheduled_for as timestamp))
    from staging.stg_inspection_orders as orders
    where orders.created_at < $earliest::timestamp
        or orders.work_starts_at < $earliest::timestamp
        or cast(orders.scheduled_for as timestamp) < $earliest::timestamp
    union all
    select clocks.document_type, clocks.document_id, clocks.office_id,
        least(clocks.stored_started_at, clocks.stored_due_at, clocks.stored_stopped_at)
    from staging.stg_workflow_clocks as clocks
    where clocks.stored_started_at < $earliest::timestamp
        or clocks.stored_due_at < $earliest::timestamp
        or clocks.stored_stopped_at < $earliest::timestamp
),

documents as (
    select
        document_type,
        document_id,
        any_value(office_id) as office_id,
        min(held_at) as held_at
    from instants
    group by document_type, document_id
),

numbers as (
    select 'periodic_order' as document_type, order_id as document_id, document_no
    from staging.stg_orders_periodic
    where order_id in (
        select document_id from documents where document_type = 'periodic_order'
    )
    union all
    select 'corrective_order', order_id, document_no
    from staging.stg_orders_corrective
    where order_id in (
        select document_id from documents where document_type = 'corrective_order'
    )
    union all
    select 'inspection', order_id, document_no
    from staging.stg_inspection_orders
    where order_id in (select document_id from documents where document_type = 'inspection')
    union all
    select 'periodic_plan', plan_id, document_no
    from staging.stg_orders_plans
    where plan_id in (select document_id from documents where document_type = 'periodic_plan')
    union all
    select document_type, document_id, any_value(document_no)
    from staging.stg_workflow_clocks
    where (document_type, document_id) in (select document_type, document_id from documents)
    group by document_type, document_id
)

select
    documents.document_type,
    documents.document_id,
    documents.office_id,
    offices.office_code,
    (
        select any_value(numbers.document_no) from numbers
        where numbers.document_type = documents.document_type
            and numbers.document_id = documents.document_id
    ) as document_no,
    documents.held_at,
    'instant_before_2000' as reason
from documents
left join staging.stg_offices as offices on offices.office_id = documents.office_id
order by offices.office_code, documents.document_type, documents.document_id
