-- Business time and SLA clocks (时效) in DuckDB SQL: the same rules as operational/calendars.py and
-- operational/sla.py (docs/sla-clocks.md), checked against tests/vectors/sla_clock_vectors.json.
-- Loaded by warehouse/business_time.py. timezone() needs ICU, statically linked in the duckdb wheel.
-- Instants are TIMESTAMPTZ; durations are BIGINT microseconds.
--
-- 1. Fill the input tables below (the extract/staging step; created empty here if missing).
-- 2. CREATE OR REPLACE TABLE calendar_intervals AS FROM expand_calendar_intervals(first_day, last_day)
--    for local days covering every clock's start, deadline and as_of (otherwise error()).
-- 3. FROM clock_states(as_of); for a few recent clocks against a long calendar, first
--    CREATE TEMP TABLE w AS FROM calendar_intervals_for_clocks(), then
--    FROM clock_states(as_of, intervals := 'w').

CREATE TABLE IF NOT EXISTS calendars (calendar_id VARCHAR, timezone VARCHAR);

CREATE TABLE IF NOT EXISTS calendar_weekday_intervals (
    calendar_id VARCHAR,
    weekday INTEGER,      -- ISO weekday: 1 = Monday … 7 = Sunday
    start_local TIME,     -- working interval [start_local, end_local) of the local day;
    end_local TIME        -- end_local 00:00 means 24:00
);

CREATE TABLE IF NOT EXISTS calendar_days (
    calendar_id VARCHAR,
    day DATE,             -- a local day
    kind VARCHAR,         -- 'holiday' (法定节假日: not worked) | 'workday' (调休 make-up working day)
    as_weekday INTEGER    -- a make-up day works this ISO weekday's intervals (NULL: Monday)
);

CREATE TABLE IF NOT EXISTS calendar_day_intervals (  -- a day worked with hours of its own
    calendar_id VARCHAR,  -- (its weekday's intervals and any calendar_days row do not apply)
    day DATE,
    start_local TIME,
    end_local TIME        -- 00:00 means 24:00
);

CREATE TABLE IF NOT EXISTS clocks (
    clock_id VARCHAR,
    calendar_id VARCHAR,  -- the office's calendar
    calendar_kind VARCHAR,  -- 'office' | '24x7'
    started_at TIMESTAMPTZ,
    target_amount INTEGER,
    unit VARCHAR,         -- 'business_minutes' | 'calendar_minutes' | 'calendar_hours'
    stopped_at TIMESTAMPTZ  -- NULL: still running
);

CREATE TABLE IF NOT EXISTS clock_pauses (
    clock_id VARCHAR,
    paused_at TIMESTAMPTZ,
    resumed_at TIMESTAMPTZ  -- NULL: still paused
);

-- Working intervals as UTC instants, numbered by the calendar's business time before each one.
CREATE TABLE IF NOT EXISTS calendar_intervals (
    calendar_id VARCHAR,
    calendar_kind VARCHAR,
    start_utc TIMESTAMPTZ,
    end_utc TIMESTAMPTZ,
    business_us_before BIGINT
);

-- Expands every calendar over the local days first_day..last_day. Local wall times go to UTC with
-- ICU: a time that occurs twice means its later occurrence, a skipped one is read with the offset
-- before the gap. The '24x7' calendar of an office is one interval over the whole range.
CREATE OR REPLACE MACRO expand_calendar_intervals(first_day, last_day) AS TABLE
WITH local_days AS (
    SELECT c.calendar_id, c.timezone, CAST(r.day AS DATE) AS day
    FROM calendars AS c,
        range(CAST(first_day AS TIMESTAMP), CAST(last_day AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) AS r(day)
),
own_days AS (SELECT DISTINCT calendar_id, day FROM calendar_day_intervals),
worked_as AS (  -- the ISO weekday whose intervals the day works; NULL on a holiday or own hours
    SELECT d.calendar_id, d.timezone, d.day,
        CASE
            WHEN own.day IS NOT NULL THEN NULL
            WHEN cd.kind = 'holiday' THEN NULL
            WHEN cd.kind = 'workday' THEN coalesce(cd.as_weekday, 1)
            ELSE isodow(d.day)
        END AS weekday
    FROM local_days AS d
    LEFT JOIN calendar_days AS cd ON cd.calendar_id = d.calendar_id AND cd.day = d.day
    LEFT JOIN own_days AS own ON own.calendar_id = d.calendar_id AND own.day = d.day
),
day_intervals AS (  -- each worked day's local intervals: its weekday's, or its own
    SELECT d.calendar_id, d.timezone, d.day, w.start_local, w.end_local
    FROM worked_as AS d
    JOIN calendar_weekday_intervals AS w ON w.calendar_id = d.calendar_id AND w.weekday = d.weekday
    UNION ALL
    SELECT d.calendar_id, d.timezone, d.day, o.start_local, o.end_local
    FROM local_days AS d
    JOIN calendar_day_intervals AS o ON o.calendar_id = d.calendar_id AND o.day = d.day
),
office AS (
    SELECT calendar_id, 'office' AS calendar_kind,
        timezone(timezone, day + start_local) AS start_utc,
        timezone(timezone, day + CAST(end_local = TIME '00:00' AS INTEGER) + end_local) AS end_utc
    FROM day_intervals
),
round_the_clock AS (
    SELECT calendar_id, '24x7' AS calendar_kind,
        timezone(timezone, CAST(first_day AS TIMESTAMP)) AS start_utc,
        timezone(timezone, CAST(last_day AS TIMESTAMP) + INTERVAL 1 DAY) AS end_utc
    FROM calendars
),
intervals AS (FROM office UNION ALL FROM round_the_clock)
SELECT *,
    coalesce(sum(epoch_us(end_utc) - epoch_us(start_utc)) OVER (
        PARTITION BY calendar_id, calendar_kind ORDER BY start_utc
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0)::BIGINT AS business_us_before
FROM intervals
WHERE end_utc > start_utc;  -- drops an interval emptied by a DST gap

-- Every clock started by as_of: deadline moved by pauses (NULL while paused before reaching the
-- target), running minutes up to its stop or as_of, and state 'met' | 'breached' | 'pending'.
-- Only what is known by as_of counts: later pauses, resumes and stops have not happened yet.
-- intervals: the table of working intervals looked up (calendar_intervals, or the part of it
-- calendar_intervals_for_clocks() keeps: the same rows come out).
CREATE OR REPLACE MACRO clock_states(as_of, intervals := 'calendar_intervals') AS TABLE
WITH clock AS (
    SELECT clock_id, calendar_id, calendar_kind, started_at,
        target_amount * CASE unit WHEN 'calendar_hours' THEN 3600000000 ELSE 60000000 END AS target_us,
        CASE WHEN stopped_at <= as_of THEN stopped_at END AS stopped_at,
        least(stopped_at, as_of) AS end_at  -- the clock runs up to here
    FROM clocks
    WHERE started_at <= as_of
),
pause AS (
    SELECT clock_id, paused_at,
        CASE WHEN resumed_at <= as_of THEN resumed_at END AS resumed_at,
        row_number() OVER (PARTITION BY clock_id ORDER BY paused_at) AS n
    FROM clock_pauses
    WHERE paused_at <= as_of
),
segment AS (  -- running segments [start, 1st pause), [1st resume, 2nd pause), … ; seg_end NULL: open
    SELECT c.clock_id, 0 AS n, c.started_at AS seg_start, p.paused_at AS seg_end
    FROM clock AS c
    LEFT JOIN pause AS p ON p.clock_id = c.clock_id AND p.n = 1
    UNION ALL
    SELECT p.clock_id, p.n, p.resumed_at, nxt.paused_at
    FROM pause AS p
    LEFT JOIN pause AS nxt ON nxt.clock_id = p.clock_id AND nxt.n = p.n + 1
    WHERE p.resumed_at IS NOT NULL
),
bounds AS (
    SELECT s.clock_id, s.n, c.calendar_id, c.calendar_kind, s.seg_start, s.seg_end,
        least(s.seg_end, c.end_at) AS seg_upto
    FROM segment AS s
    JOIN clock AS c USING (clock_id)
),
point AS (UNPIVOT bounds ON seg_start, seg_end, seg_upto INTO NAME role VALUE t),
calendar_range AS (
    SELECT calendar_id, start_utc AS range_start, end_utc AS range_end
    FROM query_table(intervals)
    WHERE calendar_kind = '24x7'
),
point_interval AS (  -- each point's calendar range and the working interval it falls in or after
    -- a '24x7' calendar is one interval, its range: found without an ASOF join
    SELECT p.clock_id, p.n, p.role, p.t, r.range_start, r.range_end,
        r.range_start AS start_utc, r.range_end AS end_utc, 0 AS business_us_before
    FROM point AS p
    LEFT JOIN calendar_range AS r ON r.calendar_id = p.calendar_id
    WHERE p.calendar_kind = '24x7'
    UNION ALL
    SELECT p.clock_id, p.n, p.role, p.t, r.range_start, r.range_end,
        i.start_utc, i.end_utc, i.business_us_before
    FROM point AS p
    LEFT JOIN calendar_range AS r ON r.calendar_id = p.calendar_id
    ASOF LEFT JOIN query_table(intervals) AS i
        ON i.calendar_id = p.calendar_id AND i.calendar_kind = p.calendar_kind AND p.t >= i.start_utc
    WHERE p.calendar_kind <> '24x7'
),
business AS (  -- the calendar's business microseconds from the range start to each point
    SELECT clock_id, n, role,
        CASE WHEN t BETWEEN range_start AND range_end
            THEN coalesce(business_us_before + epoch_us(least(t, end_utc)) - epoch_us(start_utc), 0)
            ELSE error('calendar_intervals do not cover clock ' || clock_id)
        END AS us
    FROM point_interval
),
running AS (
    SELECT clock_id, n,
        max(us) FILTER (role = 'seg_start') AS start_us,
        max(us) FILTER (role = 'seg_end') - max(us) FILTER (role = 'seg_start') AS run_us,
        max(us) FILTER (role = 'seg_upto') - max(us) FILTER (role = 'seg_start') AS elapsed_us
    FROM business
    GROUP BY clock_id, n
),
reach AS (  -- the business position at which running time reaches the target
    SELECT c.clock_id, c.calendar_id, c.calendar_kind, r.start_us + c.target_us - r.run_before_us AS due_us
    FROM (
        SELECT *, coalesce(sum(run_us) OVER (
            PARTITION BY clock_id ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS run_before_us
        FROM running
    ) AS r
    JOIN clock AS c USING (clock_id)
    WHERE r.run_before_us < c.target_us
        AND (r.run_us IS NULL OR c.target_us <= r.run_before_us + r.run_us)
),
due_interval AS (  -- the working interval holding each position ('24x7': the range, as above)
    SELECT x.clock_id, x.due_us,
        CASE WHEN x.due_us > 0 THEN r.range_start END AS start_utc,
        CASE WHEN x.due_us > 0 THEN r.range_end END AS end_utc,
        0 AS business_us_before
    FROM reach AS x
    LEFT JOIN calendar_range AS r ON r.calendar_id = x.calendar_id
    WHERE x.calendar_kind = '24x7'
    UNION ALL
    SELECT x.clock_id, x.due_us, i.start_utc, i.end_utc, i.business_us_before
    FROM reach AS x
    ASOF LEFT JOIN query_table(intervals) AS i
        ON i.calendar_id = x.calendar_id AND i.calendar_kind = x.calendar_kind AND x.due_us > i.business_us_before
    WHERE x.calendar_kind <> '24x7'
),
due AS (  -- the earliest instant at that position
    SELECT clock_id,
        CASE WHEN due_us <= business_us_before + epoch_us(end_utc) - epoch_us(start_utc)
            -- by microseconds, not ICU's TIMESTAMPTZ + INTERVAL (an instant is an instant)
            THEN make_timestamptz(epoch_us(start_utc) + CAST(due_us - business_us_before AS BIGINT))
            ELSE error('calendar_intervals end before the deadline of clock ' || clock_id)
        END AS due_at
    FROM due_interval
)
SELECT c.clock_id, d.due_at,
    CAST(sum(r.elapsed_us) AS BIGINT) / 60000000 AS elapsed_minutes,
    CASE
        WHEN d.due_at < c.end_at THEN 'breached'
        WHEN c.stopped_at IS NOT NULL THEN 'met'
        ELSE 'pending'
    END AS state
FROM clock AS c
JOIN running AS r USING (clock_id)
LEFT JOIN due AS d USING (clock_id)
GROUP BY c.clock_id, c.stopped_at, c.end_at, d.due_at;

-- The working intervals of calendar_intervals that the clocks in clocks can look up: clock_states
-- over these gives the same rows as over all of them, and its two ASOF joins sort these alone (a
-- refresh's few thousand recent clocks against years of every office's calendar: most of the
-- work was that sort). Every instant the rule looks up — a start, stop, pause or resume, the
-- evaluation instant, a deadline — falls at or after the earliest start, stop, pause or resume
-- of the clocks (as_of is after every start counted; a deadline after its start): an instant
-- finds the last interval starting by it, a deadline the last one whose business time before
-- it is less. So each calendar keeps its intervals from the second-last one starting by that
-- earliest instant on (the last one, and the one before it for a deadline falling exactly at
-- its business start); all of them where none starts by it; and its '24x7' range.
CREATE OR REPLACE MACRO calendar_intervals_for_clocks() AS TABLE
WITH earliest AS (
    SELECT min(instant) AS instant
    FROM (
        SELECT started_at AS instant FROM clocks
        UNION ALL SELECT stopped_at FROM clocks
        UNION ALL SELECT paused_at FROM clock_pauses
        UNION ALL SELECT resumed_at FROM clock_pauses
    )
),
kept_from AS (
    SELECT calendar_id, calendar_kind, list_min(max(start_utc, 2)) AS start_utc
    FROM calendar_intervals
    WHERE calendar_kind <> '24x7' AND start_utc <= (SELECT instant FROM earliest)
    GROUP BY calendar_id, calendar_kind
)
SELECT i.*
FROM calendar_intervals AS i
LEFT JOIN kept_from AS k USING (calendar_id, calendar_kind)
WHERE i.calendar_kind = '24x7' OR k.start_utc IS NULL OR i.start_utc >= k.start_utc;
