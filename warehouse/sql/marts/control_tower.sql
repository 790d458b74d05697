-- The control tower (运营驾驶舱): where headquarters must look today, as rows of indicators.
-- One row per indicator of every office, city company and group, and one per metering point
-- whose loss is past its threshold, at the build's as_of: the figure, the one it is compared
-- with, the threshold it is judged by, and a status (alert, watch, ok, none) with a score that
-- ranks it. Indicators: SLA compliance this month against last month, open and overdue orders,
-- plan coverage, electricity and water this month so far against the same days a year before,
-- energy exceptions to follow up, losses past the threshold in the last complete month, the
-- lowest supplier contract score of the last complete month (marts.contract_scores); and the
-- owner-service figures of offices with tickets: open complaints, those escalated to level 1
-- and 2 (marts.open_complaints), ticket resolution compliance this month against last month
-- (marts.ticket_compliance, clock `resolution`) and the night-service share of the tickets
-- received this month (marts.tickets). The thresholds are the named values of the first step (docs/dashboards.md, "Control tower").
-- Contract: docs/control-tower.md.
with

-- The thresholds, one name each (docs/dashboards.md lists them with their meaning).
thresholds as (
    select
        90.0 as compliance_watch_pct,  -- SLA compliance below it: watch
        80.0 as compliance_alert_pct,  -- below it: alert
        10.0 as compliance_drop_pts,  -- fallen by at least these points since last month: watch
        5 as compliance_min_clocks,  -- fewer finished clocks this month: not judged
        1 as overdue_watch,  -- overdue orders: watch from this many
        10 as overdue_alert,  -- alert from this many
        95.0 as coverage_watch_pct,  -- plan coverage below it: watch
        80.0 as coverage_alert_pct,  -- below it: alert
        15.0 as energy_rise_watch_pct,  -- energy above the same days last year by this %: watch
        30.0 as energy_rise_alert_pct,  -- by this %: alert
        1 as exceptions_watch,  -- energy exceptions to follow up: watch from this many
        10 as exceptions_alert,  -- alert from this many
        10.0 as loss_watch_pct,  -- a parent point's loss beyond ± this % of its consumption: watch
        20.0 as loss_alert_pct,  -- beyond ± this %: alert
        90.0 as supplier_score_watch,  -- an office's lowest contract score below it: watch
        80.0 as supplier_score_alert,  -- below it: alert
        1 as escalated_1_watch,  -- open complaints at level 1 (city audit): watch from this many
        5 as escalated_1_alert,  -- alert from this many
        1 as escalated_2_watch,  -- open complaints at level 2 (group audit): watch from this many
        3 as escalated_2_alert  -- alert from this many
),

-- How each indicator is judged: 'below' (lower is worse) or 'above' (higher is worse) the
-- thresholds; for energy the rise against last year is judged, for a loss its size either way,
-- and an office's count of meters with losses by its worst meter.
rules as (
    select 'sla_compliance' as indicator, 'below' as direction,
        compliance_watch_pct as watch_at, compliance_alert_pct as alert_at
    from thresholds
    union all
    select 'overdue_orders', 'above', overdue_watch, overdue_alert from thresholds
    union all
    select 'plan_coverage', 'below', coverage_watch_pct, coverage_alert_pct from thresholds
    union all
    select 'energy_electricity', 'above', energy_rise_watch_pct, energy_rise_alert_pct
    from thresholds
    union all
    select 'energy_water', 'above', energy_rise_watch_pct, energy_rise_alert_pct from thresholds
    union all
    select 'energy_exceptions', 'above', exceptions_watch, exceptions_alert from thresholds
    union all
    select 'energy_losses', 'above', loss_watch_pct, loss_alert_pct from thresholds
    union all
    select 'energy_loss', 'above', loss_watch_pct, loss_alert_pct from thresholds
    union all
    select 'supplier_score', 'below', supplier_score_watch, supplier_score_alert from thresholds
    union all
    -- ticket resolution compliance is judged as SLA compliance is (and needs as many clocks)
    select 'ticket_resolution_compliance', 'below', compliance_watch_pct, compliance_alert_pct
    from thresholds
    union all
    select 'escalated_level1', 'above', escalated_1_watch, escalated_1_alert from thresholds
    union all
    select 'escalated_level2', 'above', escalated_2_watch, escalated_2_alert from thresholds
),

params as (select as_of from raw.run_params),

-- Every office with its office-local day of as_of: this month's figures end there.
offices as (
    select
        dim.group_code,
        dim.city_code,
        dim.office_code,
        cast(
            timezone(coalesce(dim.timezone, 'Asia/Shanghai'), timezone('UTC', params.as_of)) as date
        ) as today
    from marts.dim_office as dim
    cross join params
),

periods as (
    select
        *,
        cast(date_trunc('month', today) as date) as this_month,
        cast(date_trunc('month', today) - interval 1 month as date) as last_month,
        -- energy: the whole days of this month before today (on the 1st: last month, whole)
        cast(date_trunc('month', today - 1) as date) as energy_from,
        today - 1 as energy_to
    from offices
),

finished as (
    select
        periods.office_code,
        sum(compliance.met) filter (where compliance.month = periods.this_month) as met_this,
        sum(compliance.met + compliance.breached)
            filter (where compliance.month = periods.this_month) as finished_this,
        sum(compliance.met) filter (where compliance.month = periods.last_month) as met_last,
        sum(compliance.met + compliance.breached)
            filter (where compliance.month = periods.last_month) as finished_last
    from periods
    inner join marts.sla_compliance as compliance
        on compliance.office_code = periods.office_code
        and compliance.month in (periods.this_month, periods.last_month)
        -- work orders only: the figure is the orders list's; tickets have figures of their own
        and compliance.discipline <> 'customer_service'
    group by periods.office_code
),

energy as (
    select
        periods.office_code,
        days.kind,
        sum(days.consumption)
            filter (where days.day between periods.energy_from and periods.energy_to) as this_year,
        sum(days.consumption) filter (
            where days.day between cast(periods.energy_from - interval 1 year as date)
            and cast(periods.energy_to - interval 1 year as date)
        ) as last_year
    from periods
    inner join marts.energy_daily_node as days
        on days.level = 'office' and days.node_code = periods.office_code
        and (
            days.day between periods.energy_from and periods.energy_to
            or days.day between cast(periods.energy_from - interval 1 year as date)
            and cast(periods.energy_to - interval 1 year as date)
        )
    group by periods.office_code, days.kind
),

metered as (
    select office_code, count(*) as points
    from marts.dim_energy_point
    group by office_code
),

exceptions as (
    select office_code, count(*) as open_exceptions
    from marts.energy_exceptions
    where not coalesce(done, false)  -- followed up and done: no longer to follow up
    group by office_code
),

-- The parent points' losses in the last complete month (complete data only, docs/energy-marts.md),
-- beyond the watch threshold, with the month before for comparison.
losses as (
    select
        periods.group_code,
        periods.city_code,
        periods.office_code,
        month.node_code as point_code,
        points.name as point_name,
        periods.last_month as period,
        last_day(periods.last_month) as period_end,
        100.0 * month.loss_pct as value,
        cast(periods.last_month - interval 1 month as date) as previous_period,
        100.0 * before.loss_pct as previous_value
    from periods
    inner join marts.energy_monthly as month
        on month.level = 'point' and month.office_code = periods.office_code
        and month.month = periods.last_month
    cross join thresholds
    left join marts.energy_monthly as before
        on before.level = 'point' and before.node_code = month.node_code
        and before.kind = month.kind
        and before.month = cast(periods.last_month - interval 1 month as date)
        and before.complete
    left join marts.dim_energy_point as points on points.point_code = month.node_code
    where month.complete
        and month.loss_pct is not null
        and abs(100.0 * month.loss_pct) >= thresholds.loss_watch_pct
),

loss_counts as (
    select
        losses.office_code,
        count(*) as past_watch,
        count(*) filter (where abs(losses.value) >= thresholds.loss_alert_pct) as past_alert
    from losses
    cross join thresholds
    group by losses.office_code
),

-- The lowest score of an office's supplier contracts in the last complete month (office-local),
-- and how many contracts scored then (docs/supplier-marts.md).
supplier_scores as (
    select
        periods.office_code,
        min(scores.score) as supplier_score,
        count(*) as supplier_contracts
    from periods
    inner join marts.contract_scores as scores
        on scores.office_code = periods.office_code and scores.month = periods.last_month
    group by periods.office_code
),

-- Owner service (docs/tickets.md): tickets received this and last month (office-local) and how
-- many of them were night service; the open complaints and their levels now; the resolution
-- clocks finished this and last month.
received as (
    select
        periods.office_code,
        count(*) as tickets,
        count(*) filter (where t.month = periods.this_month) as received_this,
        count(*) filter (where t.month = periods.this_month and t.night_service) as night_this,
        count(*) filter (where t.month = periods.last_month) as received_last,
        count(*) filter (where t.month = periods.last_month and t.night_service) as night_last
    from periods
    inner join (
        select
            tickets.office_code,
            tickets.night_service,
            cast(date_trunc(
                'month',
                timezone(coalesce(dim.timezone, 'Asia/Shanghai'), timezone('UTC', tickets.received_at))
            ) as date) as month
        from marts.tickets as tickets
        inner join marts.dim_office as dim on dim.office_code = tickets.office_code
    ) as t on t.office_code = periods.office_code
    group by periods.office_code
),

complaints_open as (
    select
        office_code,
        count(*) as open_complaints,
        count(*) filter (where escalation_level = 1) as escalated_1,
        count(*) filter (where escalation_level = 2) as escalated_2
    from marts.open_complaints
    group by office_code
),

ticket_finished as (
    select
        periods.office_code,
        sum(c.met) filter (where c.month = periods.this_month) as met_this,
        sum(c.met + c.breached) filter (where c.month = periods.this_month) as finished_this,
        sum(c.met) filter (where c.month = periods.last_month) as met_last,
        sum(c.met + c.breached) filter (where c.month = periods.last_month) as finished_last
    from periods
    inner join marts.ticket_compliance as c
        on c.office_code = periods.office_code and c.clock = 'resolution'
        and c.month in (periods.this_month, periods.last_month)
    group by periods.office_code
),

per_office as (
    select
        periods.group_code,
        periods.city_code,
        periods.office_code,
        periods.today,
        periods.this_month,
        periods.last_month,
        periods.energy_from,
        periods.energy_to,
        finished.met_this,
        finished.finished_this,
        finished.met_last,
        finished.finished_last,
        workload.open_orders,
        workload.overdue_orders,
        workload.objects,
        workload.objects_without_plan,
        electricity.this_year as electricity,
        electricity.last_year as electricity_last_year,
        water.this_year as water,
        water.last_year as water_last_year,
        case when metered.points > 0 then coalesce(exceptions.open_exceptions, 0) end
            as open_exceptions,
        case when metered.points > 0 then coalesce(loss_counts.past_watch, 0) end as losses,
        case when metered.points > 0 then coalesce(loss_counts.past_alert, 0) end
            as losses_alert,
        supplier_scores.supplier_score,
        supplier_scores.supplier_contracts,
        received.tickets,
        received.received_this,
        received.night_this,
        received.received_last,
        received.night_last,
        case when received.tickets > 0 then coalesce(complaints_open.open_complaints, 0) end
            as open_complaints,
        case when received.tickets > 0 then coalesce(complaints_open.escalated_1, 0) end
            as escalated_1,
        case when received.tickets > 0 then coalesce(complaints_open.escalated_2, 0) end
            as escalated_2,
        ticket_finished.met_this as ticket_met_this,
        ticket_finished.finished_this as ticket_finished_this,
        ticket_finished.met_last as ticket_met_last,
        ticket_finished.finished_last as ticket_finished_last
    from periods
    left join finished on finished.office_code = periods.office_code
    left join marts.office_workload as workload on workload.office_code = periods.office_code
    left join energy as electricity
        on electricity.office_code = periods.office_code and electricity.kind = 'electricity'
    left join energy as water on water.office_code = periods.office_code and water.kind = 'water'
    left join metered on metered.office_code = periods.office_code
    left join exceptions on exceptions.office_code = periods.office_code
    left join loss_counts on loss_counts.office_code = periods.office_code
    left join supplier_scores on supplier_scores.office_code = periods.office_code
    left join received on received.office_code = periods.office_code
    left join complaints_open on complaints_open.office_code = periods.office_code
    left join ticket_finished on ticket_finished.office_code = periods.office_code
),

-- Offices, their city companies and their group: a total is the sum of its offices' counts
-- (a city's or the group's percentages are recomputed from the sums, never averaged).
rolled as (
    select
        case
            when grouping(office_code) = 0 then 'office'
            when grouping(city_code) = 0 then 'city'
            else 'group'
        end as level,
        coalesce(office_code, city_code, group_code) as node_code,
        group_code,
        city_code,
        office_code,
        max(today) as today,
        max(this_month) as this_month,
        max(last_month) as last_month,
        max(energy_from) as energy_from,
        max(energy_to) as energy_to,
        sum(met_this) as met_this,
        sum(finished_this) as finished_this,
        sum(met_last) as met_last,
        sum(finished_last) as finished_last,
        sum(open_orders) as open_orders,
        sum(overdue_orders) as overdue_orders,
        sum(objects) as objects,
        sum(objects_without_plan) as objects_without_plan,
        sum(electricity) as electricity,
        sum(electricity_last_year) as electricity_last_year,
        sum(water) as water,
        sum(water_last_year) as water_last_year,
        sum(open_exceptions) as open_exceptions,
        sum(losses) as losses,
        sum(losses_alert) as losses_alert,
        min(supplier_score) as supplier_score,  -- a total's: its worst contract's
        sum(supplier_contracts) as supplier_contracts,
        sum(tickets) as tickets,
        sum(received_this) as received_this,
        sum(night_this) as night_this,
        sum(received_last) as received_last,
        sum(night_last) as night_last,
        sum(open_complaints) as open_complaints,
        sum(escalated_1) as escalated_1,
        sum(escalated_2) as escalated_2,
        sum(ticket_met_this) as ticket_met_this,
        sum(ticket_finished_this) as ticket_finished_this,
        sum(ticket_met_last) as ticket_met_last,
        sum(ticket_finished_last) as ticket_finished_last
    from per_office
    group by grouping sets ((group_code, city_code, office_code), (group_code, city_code), (group_code))
),

figures as (
    select
        level, node_code, group_code, city_code, office_code, 'sla_compliance' as indicator,
        cast(null as varchar) as detail, 'month' as period_kind,
        this_month as period, today as period_end,
        case when finished_this > 0 then 100.0 * met_this / finished_this end as value,
        last_month as previous_period,
        case when finished_last > 0 then 100.0 * met_last / finished_last end as previous_value,
        'pct' as unit, finished_this as basis, cast(null as bigint) as alerts
    from rolled
    union all
    select
        level, node_code, group_code, city_code, office_code, 'open_orders', null, 'as_of', today, today,
        open_orders, null, null, 'orders', null, null
    from rolled
    union all
    select
        level, node_code, group_code, city_code, office_code, 'overdue_orders', null, 'as_of', today, today,
        overdue_orders, null, null, 'orders', open_orders, null
    from rolled
    union all
    select
        level, node_code, group_code, city_code, office_code, 'plan_coverage', null, 'as_of', today, today,
        case when objects > 0 then 100.0 * (objects - objects_without_plan) / objects end,
        null, null, 'pct', objects, null
    from rolled
    union all
    select
        level, node_code, group_code, city_code, office_code, 'energy_electricity', null, 'month',
        energy_from, energy_to, electricity, cast(energy_from - interval 1 year as date),
        electricity_last_year, 'kWh', null, null
    from rolled
    where electricity is not null or electricity_last_year is not null
    union all
    select
        level, node_code, group_code, city_code, office_code, 'energy_water', null, 'month',
        energy_from, energy_to, water, cast(energy_from - interval 1 year as date),
        water_last_year, 'm3', null, null
    from rolled
    where water is not null or water_last_year is not null
    union all
    select
        level, node_code, group_code, city_code, office_code, 'energy_exceptions', null, 'as_of', today,
        today, open_exceptions, null, null, 'exceptions', null, null
    from rolled
    where open_exceptions is not null
    union all
    select
        level, node_code, group_code, city_code, office_code, 'energy_losses', null, 'month', last_month,
        last_day(last_month), losses, null, null, 'points', null, losses_alert
    from rolled
    where losses is not null
    union all
    select
        level, node_code, group_code, city_code, office_code, 'supplier_score', null, 'month',
        last_month, last_day(last_month), supplier_score, null, null, 'score',
        supplier_contracts, null
    from rolled
    where supplier_score is not null
    union all
    select
        level, node_code, group_code, city_code, office_code, 'open_complaints', null, 'as_of',
        today, today, open_complaints, null, null, 'complaints', null, null
    from rolled
    where tickets > 0
    union all
    select
        level, node_code, group_code, city_code, office_code, 'escalated_level1', null, 'as_of',
        today, today, escalated_1, null, null, 'complaints', open_complaints, null
    from rolled
    where tickets > 0
    union all
    select
        level, node_code, group_code, city_code, office_code, 'escalated_level2', null, 'as_of',
        today, today, escalated_2, null, null, 'complaints', open_complaints, null
    from rolled
    where tickets > 0
    union all
    select
        level, node_code, group_code, city_code, office_code, 'ticket_resolution_compliance',
        null, 'month', this_month, today,
        case when ticket_finished_this > 0 then 100.0 * ticket_met_this / ticket_finished_this end,
        last_month,
        case when ticket_finished_last > 0 then 100.0 * ticket_met_last / ticket_finished_last end,
        'pct', coalesce(ticket_finished_this, 0), null
    from rolled
    where tickets > 0
    union all
    select
        level, node_code, group_code, city_code, office_code, 'night_service_share', null, 'month',
        this_month, today,
        case when received_this > 0 then 100.0 * night_this / received_this end,
        last_month,
        case when received_last > 0 then 100.0 * night_last / received_last end,
        'pct', received_this, null
    from rolled
    where tickets > 0
    union all
    select
        'point', point_code, group_code, city_code, office_code, 'energy_loss', point_name, 'month', period,
        period_end, value, previous_period, previous_value, 'pct', null, null
    from losses
),

-- The figure each rule judges: the value, or for energy the rise against last year (%), for
-- a loss its size either way.
measured as (
    select
        figures.*,
        case
            when figures.indicator in ('energy_electricity', 'energy_water')
                then case when figures.previous_value > 0
                    then 100.0 * (figures.value / figures.previous_value - 1) end
            when figures.indicator = 'energy_loss' then abs(figures.value)
            else figures.value
        end as measure
    from figures
),

judged as (
    select
        measured.*,
        rules.direction,
        rules.watch_at as threshold,
        rules.alert_at as alert_threshold,
        case
            when rules.indicator is null or measured.measure is null then 'none'
            when measured.indicator in ('sla_compliance', 'ticket_resolution_compliance')
                and measured.basis < thresholds.compliance_min_clocks then 'none'
            when measured.indicator = 'energy_losses'  -- its worst meter's status
                then case
                    when measured.alerts > 0 then 'alert'
                    when measured.measure > 0 then 'watch'
                    else 'ok' end
            when rules.direction = 'below' and measured.measure < rules.alert_at then 'alert'
            when rules.direction = 'below' and measured.measure < rules.watch_at then 'watch'
            when rules.direction = 'above' and measured.measure >= rules.alert_at then 'alert'
            when rules.direction = 'above' and measured.measure >= rules.watch_at then 'watch'
            when measured.indicator in ('sla_compliance', 'ticket_resolution_compliance')
                and measured.previous_value - measured.measure >= thresholds.compliance_drop_pts
                then 'watch'
            else 'ok'
        end as status,
        -- how many times its alert threshold the figure is (a rank within a status)
        case
            when measured.measure is null or rules.indicator is null then null
            when rules.direction = 'below' then rules.alert_at / greatest(measured.measure, 1.0)
            else measured.measure / greatest(rules.alert_at, 1.0)
        end as score
    from measured
    cross join thresholds
    left join rules on rules.indicator = measured.indicator
),

final as (
    select
        judged.level,
        judged.node_code,
        judged.group_code,
        judged.city_code,
        judged.office_code,
        judged.indicator,
        judged.detail,
        judged.period_kind,
        judged.period,
        judged.period_end,
        judged.period_kind = 'month' and judged.period_end < last_day(judged.period)
            as in_progress,
        cast(judged.value as double) as value,
        judged.previous_period,
        cast(judged.previous_value as double) as previous_value,
        judged.unit,
        cast(judged.basis as bigint) as basis,
        judged.direction,
        cast(judged.threshold as double) as threshold,
        cast(judged.alert_threshold as double) as alert_threshold,
        judged.status,
        case judged.status when 'alert' then 2 when 'watch' then 1 else 0 end as severity,
        cast(judged.score as double) as score,
        params.as_of
    from judged
    cross join params
)

select * from final
order by level, node_code, indicator, detail
