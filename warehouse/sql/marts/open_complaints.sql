-- The complaint escalation board (投诉升级看板): one row per complaint still open at the build's
-- as_of (its state is not `closed`: a resolved complaint awaits its follow-up visit), with its
-- office and city company, severity, the office-local month it was received in, the level it
-- has reached (marts.tickets.escalation_level), who holds it now (`holder_role`: the office
-- manager at level 0, the city company's internal-audit manager at 1, the group's at 2), when
-- it reached that level, and its age since receipt in hours and in the board's buckets
-- (`age_bucket`, `age_order`): under a day, 1–2 days (a minor complaint's 48-hour target),
-- 2–3 days (general: 72 h), 3–5 days (major: 120 h), 5–10 days, over 10 days.
-- Contract: docs/tickets.md.
with

params as (select as_of from raw.run_params),

open_complaints as (
    select t.*
    from marts.tickets as t
    where t.type = 'complaint' and coalesce(t.state, '') <> 'closed'
),

reached as (
    select ticket_no, max(escalated_at) as escalated_at
    from marts.complaint_escalations
    group by ticket_no
),

aged as (
    select
        c.ticket_no,
        c.office_code,
        o.city_code,
        c.severity,
        c.state,
        c.night_service,
        c.received_at,
        cast(date_trunc(
            'month',
            timezone(coalesce(o.timezone, 'Asia/Shanghai'), timezone('UTC', c.received_at))
        ) as date) as received_month,
        c.escalation_level,
        case c.escalation_level
            when 2 then 'group_audit_manager'
            when 1 then 'city_audit_manager'
            else 'office_manager'
        end as holder_role,
        r.escalated_at,
        (epoch(params.as_of) - epoch(c.received_at)) / 3600.0 as age_hours
    from open_complaints as c
    cross join params
    left join marts.dim_office as o on o.office_code = c.office_code
    left join reached as r on r.ticket_no = c.ticket_no
)

select
    *,
    case
        when age_hours < 24 then 'under_1d'
        when age_hours < 48 then 'd1_2'
        when age_hours < 72 then 'd2_3'
        when age_hours < 120 then 'd3_5'
        when age_hours < 240 then 'd5_10'
        else 'over_10d'
    end as age_bucket,
    case
        when age_hours < 24 then 1
        when age_hours < 48 then 2
        when age_hours < 72 then 3
        when age_hours < 120 then 4
        when age_hours < 240 then 5
        else 6
    end as age_order
from aged
order by ticket_no
