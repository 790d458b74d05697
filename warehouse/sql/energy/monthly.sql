-- marts.energy_monthly: level × node × kind × month, from the point months (energy.point_month,
-- small). Rules: docs/energy-marts.md ("Complete month", "Month in progress", "Roll-ups",
-- "Held points").
--
-- Parameters: $from_month (null: every month; else only the months from it on are redone).
-- Reads energy.as_of_month (time zone → the office-local month of the build's as_of) and
-- energy.held_points.
with

held_by_month as (
    select i.point_id, b.month, count(*) as held
    from marts.energy_intervals as i
    inner join marts.dim_energy_point as p using (point_id)
    inner join (
        select distinct
            timezone,
            date_trunc('month', day)::date as month,
            min(start_at) over (partition by timezone, date_trunc('month', day)) as ms,
            max(end_at) over (partition by timezone, date_trunc('month', day)) as me
        from energy.day_bounds
    ) as b on b.timezone = p.timezone and i.start_at < b.me and i.end_at > b.ms
    where i.status = 'held'
    group by all
),

pm as (
    select
        m.*,
        p.point_code,
        p.office_code,
        p.city_code,
        p.group_code,
        p.kind,
        p.building,
        p.parent_point_id,
        p.parent_building,
        p.is_root,
        -- every local day of the month must be covered
        date_diff('day', m.month, (m.month + interval 1 month)::date) as required_days,
        -- the office-local month of as_of, or a later one, has not ended: in progress
        m.month >= coalesce(a.month, date '9999-12-01') as in_progress,
        coalesce(h.held, 0) as held_intervals
    from energy.point_month as m
    inner join marts.dim_energy_point as p using (point_id)
    left join energy.as_of_month as a on a.timezone = p.timezone
    left join held_by_month as h on h.point_id = m.point_id and h.month = m.month
    where $from_month::date is null or m.month >= $from_month::date
),

pmc as (
    select
        *,
        (not in_progress and full_days >= required_days and held_intervals = 0) as complete
    from pm
),

kids as (
    select
        parent_point_id as point_id,
        month,
        sum(consumption) as children_consumption,
        bool_and(complete) as children_complete,
        count(*) as children_with_data
    from pmc
    where parent_point_id is not null
    group by all
),

kid_count as (
    select parent_point_id as point_id, count(*) as n_children
    from marts.dim_energy_point
    where parent_point_id is not null
    group by all
),

points as (
    select
        'point' as level,
        pmc.point_code as node_code,
        pmc.kind,
        pmc.month,
        pmc.consumption,
        pmc.office_code,
        case when kc.n_children is not null
            then coalesce(k.children_consumption, 0) end as children_consumption,
        -- a held sub-meter has no month: children_with_data falls short, no loss
        case when kc.n_children is not null and pmc.complete
                and coalesce(k.children_complete, false)
                and k.children_with_data = kc.n_children
            then pmc.consumption - k.children_consumption end as loss,
        pmc.complete,
        pmc.estimated_days > 0 as estimated,
        pmc.in_progress
    from pmc
    left join kids as k using (point_id, month)
    left join kid_count as kc using (point_id)
),

rollups as (
    select
        'building' as level,
        office_code || '/' || building as node_code,
        kind,
        month,
        sum(consumption) as consumption,
        office_code,
        bool_and(complete) as complete,
        bool_or(estimated_days > 0) as estimated,
        bool_or(in_progress) as in_progress
    from pmc
    where building is not null
        and (parent_building is null or parent_building <> building)
    group by all
    union all
    select
        'office', office_code, kind, month, sum(consumption), office_code,
        bool_and(complete), bool_or(estimated_days > 0), bool_or(in_progress)
    from pmc where is_root group by all
    union all
    select
        'city', city_code, kind, month, sum(consumption), null,
        bool_and(complete), bool_or(estimated_days > 0), bool_or(in_progress)
    from pmc where is_root group by all
    union all
    select
        'group', group_code, kind, month, sum(consumption), null,
        bool_and(complete), bool_or(estimated_days > 0), bool_or(in_progress)
    from pmc where is_root group by all
),

-- the nodes whose total leaves out a held point: never complete while it is held
held_nodes as (
    select distinct level, node_code, kind from (
        select 'building' as level, p.office_code || '/' || p.building as node_code, p.kind
        from energy.held_points as h
        inner join marts.dim_energy_point as p using (point_id)
        where p.building is not null
            and (p.parent_building is null or p.parent_building <> p.building)
        union all
        select 'office', p.office_code, p.kind
        from energy.held_points as h inner join marts.dim_energy_point as p using (point_id)
        where p.is_root
        union all
        select 'city', p.city_code, p.kind
        from energy.held_points as h inner join marts.dim_energy_point as p using (point_id)
        where p.is_root
        union all
        select 'group', p.group_code, p.kind
        from energy.held_points as h inner join marts.dim_energy_point as p using (point_id)
        where p.is_root
    )
)

select
    level, node_code, kind, month, consumption, children_consumption, loss,
    case when loss is not null and consumption <> 0 then loss / consumption end as loss_pct,
    office_code, complete, estimated, in_progress
from points
union all
select
    r.level, r.node_code, r.kind, r.month, r.consumption, null, null, null, r.office_code,
    r.complete and h.level is null, r.estimated, r.in_progress
from rollups as r
left join held_nodes as h using (level, node_code, kind)
order by level, node_code, kind, month
