-- Each clock's inputs rebuilt from the event log: start and stop from its events (a periodic
-- or inspection order's clock not before the order's work start), target and stored deadline from its row,
-- office, time zone and discipline. Written to sla.clock_inputs by warehouse/sla.py, which fills
-- the {name} slots with which rows to read (filters on ids and sla.touched; no values).
with

-- the held documents' clocks are left out (held_documents.sql)
clocks as (
    select c.*
    from (select * from staging.stg_workflow_clocks {clocks_filter}) as c
    anti join sla.held_documents as held
        on held.document_type = c.document_type and held.document_id = c.document_id
),

-- Every event, scanned by each join: measured cheaper than first selecting the clocks' own
-- events with a semi-join (2 M clocks, 7.8 M events: the joins 2.4-2.9 s against 4.4-5.4 s).
events as not materialized (select * from staging.stg_workflow_events {events_filter}),

offices as (
    select offices.*, zones.offset_seconds
    from staging.stg_offices as offices
    left join sla.zone_offsets as zones on zones.timezone = offices.timezone
),

-- Each order table joined on its integer id alone (a join on the document type and id hashed
-- a string per clock: 2 M clocks ≈ 0.6-1.4 s of join against ≈ 0.2 s).
periodic as (
    select order_id, discipline, work_starts_at
    from staging.stg_orders_periodic {periodic_filter}
),

corrective as (
    select order_id, discipline from staging.stg_orders_corrective {corrective_filter}
),

-- Inspection orders (docs/inspections.md): like a periodic order, the clock starts not before
-- the scheduled day's start.
inspection as (
    select order_id, discipline, work_starts_at
    from staging.stg_inspection_orders {inspection_filter}
),

-- Tickets (docs/tickets.md): discipline customer_service; an appointment repair's on-site
-- clock runs whole minutes up to the appointed time, so it starts that many minutes before it.
tickets as (
    select ticket_id, ticket_type, appointment_at from staging.stg_tickets {tickets_filter}
),

-- Nonconformities (docs/nonconformities.md): one table, three document types, the discipline
-- of the row.
nonconformities as (
    select nonconformity_id, discipline
    from staging.stg_supplier_nonconformities {nonconformities_filter}
),

rebuilt as (
    select
        clocks.clock_id,
        clocks.document_type,
        clocks.document_id,
        clocks.document_no,
        clocks.office_id,
        offices.office_code,
        coalesce(offices.timezone, 'Asia/Shanghai') as timezone,
        offices.offset_seconds,
        coalesce(
            periodic.discipline,
            corrective.discipline,
            inspection.discipline,
            nonconformities.discipline,
            case when tickets.ticket_id is not null then 'customer_service' end
        ) as discipline,
        clocks.clock,
        clocks.target_amount,
        clocks.target_unit,
        clocks.calendar_kind,
        case
            when clocks.clock = 'on_site' and tickets.appointment_at is not null
                then tickets.appointment_at - to_minutes(clocks.target_amount)
            else greatest(
                start_event.event_at,
                coalesce(periodic.work_starts_at, inspection.work_starts_at, start_event.event_at)
            )
        end as started_at,
        stop_event.event_at as stop_event_at,
        clocks.stored_due_at
    from clocks
    inner join events as start_event on start_event.event_id = clocks.started_event_id
    left join events as stop_event on stop_event.event_id = clocks.stopped_event_id
    left join periodic
        on clocks.document_type = 'periodic_order' and periodic.order_id = clocks.document_id
    left join corrective
        on clocks.document_type = 'corrective_order' and corrective.order_id = clocks.document_id
    left join inspection
        on clocks.document_type = 'inspection' and inspection.order_id = clocks.document_id
    left join tickets
        on clocks.document_type in ('inquiry', 'repair', 'complaint')
        and tickets.ticket_type = clocks.document_type
        and tickets.ticket_id = clocks.document_id
    left join nonconformities
        on clocks.document_type in (
            'nonconformity_notice', 'nonconformity_handling', 'nonconformity_corrective'
        )
        and nonconformities.nonconformity_id = clocks.document_id
    left join offices on offices.office_id = clocks.office_id
)

select
    * exclude (stop_event_at),
    -- greatest() skips NULLs: a clock without a stop event stays open.
    case when stop_event_at is not null then greatest(stop_event_at, started_at) end as stopped_at
from rebuilt
