-- Open and overdue work, throughput and plan coverage per office, as of the run (raw.run_params).
-- open: orders whose completion clock has started and not stopped by as_of; overdue: open and
-- past its deadline; closed_last_30d: completion clocks stopped in (as_of − 30 days, as_of].
-- objects_without_plan: objects no plan (in any state) covers that has not ended by the
-- office-local day of as_of (like operational.services.plans.objects_without_plan).
with

params as (select as_of from raw.run_params),

offices as (select * from staging.stg_offices),

order_clocks as (
    select *
    from marts.sla_clocks
    where clock = 'completion' and document_type in ('periodic_order', 'corrective_order')
),

orders as (
    select
        order_clocks.office_code,
        count(*) filter (where order_clocks.stopped_at is null) as open_orders,
        count(*) filter (
            where order_clocks.stopped_at is null and order_clocks.due_at < params.as_of
        ) as overdue_orders,
        count(*) filter (
            where order_clocks.stopped_at > params.as_of - interval 30 day
            and order_clocks.stopped_at <= params.as_of
        ) as closed_last_30d
    from order_clocks, params
    group by order_clocks.office_code
),

objects as (select * from staging.stg_orders_objects),

live_plans as (
    select plans.plan_id
    from staging.stg_orders_plans as plans
    inner join offices on offices.office_id = plans.office_id
    cross join params
    where plans.end_date is null
        or plans.end_date >= cast(timezone(offices.timezone, timezone('UTC', params.as_of)) as date)
),

covered as (
    select distinct plan_objects.object_id
    from staging.stg_orders_plan_objects as plan_objects
    inner join live_plans on live_plans.plan_id = plan_objects.plan_id
),

object_counts as (
    select
        objects.office_id,
        count(*) as objects,
        count(*) filter (where covered.object_id is null) as objects_without_plan
    from objects
    left join covered on covered.object_id = objects.object_id
    group by objects.office_id
),

final as (
    select
        offices.office_code,
        coalesce(orders.open_orders, 0) as open_orders,
        coalesce(orders.overdue_orders, 0) as overdue_orders,
        coalesce(orders.closed_last_30d, 0) as closed_last_30d,
        coalesce(object_counts.objects, 0) as objects,
        coalesce(object_counts.objects_without_plan, 0) as objects_without_plan,
        case when object_counts.objects > 0 then
            100.0 * (object_counts.objects - object_counts.objects_without_plan)
            / object_counts.objects
        end as plan_coverage_pct,
        params.as_of
    from offices
    cross join params
    left join orders on orders.office_code = offices.office_code
    left join object_counts on object_counts.office_id = offices.office_id
)

select * from final
order by office_code
