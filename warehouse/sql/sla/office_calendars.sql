-- Every office's working calendar, as the inputs of sql/macros/business_time.sql: the same three
-- layers as operational.services.calendars.calendar_for_office (docs/sla-clocks.md), each winning
-- over the one before:
--   1. the package: China's days from chinese_calendar (sla.package_days, loaded by warehouse/sla.py);
--   2. the group (rows with office_id NULL): its week (else sla.default_intervals) and its days,
--      e.g. next year's official list loaded with `propcloud import calendar-days`;
--   3. the office: its own week (replacing the group's whole) and its own days.
-- Reads raw.org_calendar_interval, raw.org_calendar_day, raw.org_calendar_day_interval and
-- sla.calendars (one row per office); fills sla.calendar_weekday_intervals, sla.calendar_days
-- and sla.calendar_day_intervals, and keeps sla.group_days (the group's days: what the Dagster
-- check of next year's holidays reads).

create or replace table sla.office_intervals as
select
    cast(office_id as varchar) as calendar_id,
    cast(weekday as integer) + 1 as weekday,
    cast(start_local as time) as start_local,
    cast(end_local as time) as end_local
from raw.org_calendar_interval
where office_id is not null;

-- The group's week: stored, else the default.
create or replace table sla.group_intervals as
select cast(weekday as integer) + 1 as weekday,
    cast(start_local as time) as start_local,
    cast(end_local as time) as end_local
from raw.org_calendar_interval
where office_id is null;

insert into sla.group_intervals
select weekday, start_local, end_local from sla.default_intervals
where not exists (select 1 from sla.group_intervals);

insert into sla.calendar_weekday_intervals
select * from sla.office_intervals
union all
select calendars.calendar_id, week.weekday, week.start_local, week.end_local
from sla.calendars
cross join sla.group_intervals as week
where calendars.calendar_id not in (select calendar_id from sla.office_intervals);

-- Stored days of offices (calendar_id) and of the group (calendar_id NULL), with their own hours.
create or replace table sla.stored_days as
select
    id as day_id,
    cast(office_id as varchar) as calendar_id,
    cast(day as date) as day,
    cast(kind as varchar) as kind,
    case when kind = 'workday' then coalesce(cast(as_weekday as integer), 0) + 1 end as as_weekday
from raw.org_calendar_day;

create or replace table sla.stored_day_intervals as
select
    days.calendar_id,
    days.day,
    cast(hours.start_local as time) as start_local,
    cast(hours.end_local as time) as end_local
from raw.org_calendar_day_interval as hours
inner join sla.stored_days as days on days.day_id = hours.day_id;

-- The group's days: the package's, each replaced by the group's stored day of that date.
create or replace table sla.group_days as
select day, kind, as_weekday from sla.stored_days where calendar_id is null
union all
select package.day, package.kind, package.as_weekday
from sla.package_days as package
anti join (select day from sla.stored_days where calendar_id is null) as loaded
    on loaded.day = package.day;

create or replace table sla.office_days as
select calendar_id, day, kind, as_weekday from sla.stored_days where calendar_id is not null;

insert into sla.calendar_days
select * from sla.office_days
union all
select calendars.calendar_id, group_days.day, group_days.kind, group_days.as_weekday
from sla.calendars
cross join sla.group_days
anti join sla.office_days as own
    on own.calendar_id = calendars.calendar_id and own.day = group_days.day;

insert into sla.calendar_day_intervals
select calendar_id, day, start_local, end_local
from sla.stored_day_intervals
where calendar_id is not null
union all
select calendars.calendar_id, hours.day, hours.start_local, hours.end_local
from sla.calendars
cross join (select * from sla.stored_day_intervals where calendar_id is null) as hours
anti join sla.office_days as own
    on own.calendar_id = calendars.calendar_id and own.day = hours.day;
