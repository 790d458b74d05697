-- Inspection plans (检查计划) of both kinds: professional (专业检查) and quality (品质检验), with
-- their discipline, schedule (start and end dates, office-local) and the instant they were
-- approved (UTC; null until approved). Their names stay in the operational store.
select
    cast(id as bigint) as plan_id,
    cast(document_no as varchar) as plan_no,
    cast(office_id as bigint) as office_id,
    cast(kind as varchar) as kind,
    cast(discipline as varchar) as discipline,
    cast(state as varchar) as state,
    cast(frequency as varchar) as frequency,
    cast(every as integer) as every,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(approved_at as timestamp) as approved_at
from raw.insp_plan
