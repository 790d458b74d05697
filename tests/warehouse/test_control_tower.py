"""The control tower mart (``marts.control_tower``): its exact rows on a small hand-made warehouse.

The marts it reads are written by hand (three offices in two city companies, clocks, workload,
energy days and months, exceptions), so every figure, comparison, threshold and status below
can be checked by arithmetic; docs/control-tower.md is the contract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pytest

from warehouse.models import load_models, run_model, write_run_params

AS_OF = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 09:30 on 20 November in Shanghai
COLUMNS = [
    "level",
    "node_code",
    "group_code",
    "city_code",
    "office_code",
    "indicator",
    "detail",
    "period_kind",
    "period",
    "period_end",
    "in_progress",
    "value",
    "previous_period",
    "previous_value",
    "unit",
    "basis",
    "direction",
    "threshold",
    "alert_threshold",
    "status",
    "severity",
    "score",
    "as_of",
]
NOV, OCT, SEP = date(2026, 11, 1), date(2026, 10, 1), date(2026, 9, 1)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple[Any, ...]]):
    con.execute(f"create table {name} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        con.executemany(f"insert into {name} values ({marks})", rows)


def warehouse(as_of: datetime, zones: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """The marts the tower reads, by hand: SH001 and SH002 in city SH, BJ001 in city BJ."""
    zones = zones or {}
    con = duckdb.connect()
    con.execute("create schema marts")
    write_run_params(con, version="t", as_of=as_of, database_backend="sqlite")
    _table(
        con,
        "marts.dim_office",
        "group_code varchar, group_name varchar, city_code varchar, city_name varchar,"
        " office_code varchar, office_name varchar, timezone varchar",
        [
            ("YY", "一应物业集团", city, f"{city}公司", code, f"{code}管理处", zones.get(code))
            for city, code in (("BJ", "BJ001"), ("SH", "SH001"), ("SH", "SH002"))
        ],
    )
    _table(
        con,
        "marts.sla_compliance",
        "office_code varchar, discipline varchar, document_type varchar, clock varchar,"
        " month date, total bigint, met bigint, breached bigint, pending bigint,"
        " compliance_pct double",
        [
            ("SH001", "engineering", "periodic_order", "completion", NOV, 12, 6, 4, 2, 60.0),
            ("SH001", "cleaning", "corrective_order", "completion", NOV, 3, 2, 0, 1, 100.0),
            ("SH001", "engineering", "periodic_order", "completion", OCT, 10, 9, 1, 0, 90.0),
            ("SH001", "engineering", "periodic_order", "completion", SEP, 10, 0, 10, 0, 0.0),
            ("SH002", "security", "corrective_order", "completion", NOV, 4, 3, 1, 0, 75.0),
            ("SH002", "security", "corrective_order", "completion", OCT, 10, 10, 0, 0, 100.0),
            ("BJ001", "cleaning", "periodic_order", "completion", NOV, 31, 27, 3, 1, 90.0),
            ("BJ001", "cleaning", "periodic_order", "completion", OCT, 20, 20, 0, 0, 100.0),
            # Ticket clocks: not work orders, so not in the tower's order compliance (every
            # figure below would move if they were counted).
            ("SH001", "customer_service", "complaint", "resolution", NOV, 20, 0, 20, 0, 0.0),
            ("BJ001", "customer_service", "repair", "pickup", OCT, 9, 0, 9, 0, 0.0),
        ],
    )
    _table(
        con,
        "marts.office_workload",
        "office_code varchar, open_orders bigint, overdue_orders bigint,"
        " closed_last_30d bigint, objects bigint, objects_without_plan bigint,"
        " plan_coverage_pct double, as_of timestamp",
        [
            ("SH001", 30, 14, 5, 50, 20, 60.0, None),
            ("SH002", 3, 0, 1, 0, 0, None, None),
            ("BJ001", 10, 2, 9, 40, 1, 97.5, None),
        ],
    )
    day = date
    _table(
        con,
        "marts.energy_daily_node",
        "level varchar, node_code varchar, kind varchar, day date, consumption double,"
        " estimated boolean, office_code varchar",
        [
            ("office", "SH001", "electricity", day(2026, 11, 1), 600.0, False, "SH001"),
            ("office", "SH001", "electricity", day(2026, 11, 19), 700.0, False, "SH001"),
            ("office", "SH001", "electricity", day(2026, 11, 20), 999.0, True, "SH001"),  # today
            ("office", "SH001", "electricity", day(2025, 11, 1), 500.0, False, "SH001"),
            ("office", "SH001", "electricity", day(2025, 11, 19), 500.0, False, "SH001"),
            ("office", "SH001", "electricity", day(2025, 11, 20), 888.0, False, "SH001"),
            ("office", "SH001", "water", day(2026, 11, 5), 50.0, False, "SH001"),
            ("office", "BJ001", "electricity", day(2026, 11, 10), 100.0, False, "BJ001"),
            ("office", "BJ001", "electricity", day(2025, 11, 10), 90.0, False, "BJ001"),
            ("building", "SH001/1栋", "electricity", day(2026, 11, 2), 7777.0, False, "SH001"),
            ("city", "SH", "electricity", day(2026, 11, 2), 7777.0, False, None),
        ],
    )
    _table(
        con,
        "marts.dim_energy_point",
        "point_code varchar, name varchar, kind varchar, office_code varchar",
        [
            ("SH001-E-MAIN", "主表", "electricity", "SH001"),
            ("SH001-E-SUB1", "1栋分表", "electricity", "SH001"),
            ("SH001-W-MAIN", "总水表", "water", "SH001"),
            ("BJ001-E-MAIN", "主表", "electricity", "BJ001"),
        ],
    )
    _table(
        con,
        "marts.energy_exceptions",
        "point_code varchar, office_code varchar, kind varchar, rule varchar, done boolean",
        [
            ("SH001-E-SUB1", "SH001", "electricity", "held", None),
            ("SH001-W-MAIN", "SH001", "water", "rollover", False),
            ("SH001-W-MAIN", "SH001", "water", "high", True),  # followed up: done, not counted
        ],
    )
    _table(
        con,
        "marts.energy_monthly",
        "level varchar, node_code varchar, kind varchar, month date, consumption double,"
        " children_consumption double, loss double, loss_pct double, office_code varchar,"
        " complete boolean, estimated boolean",
        [
            ("point", "SH001-E-MAIN", "electricity", OCT, 1000.0, 770.0, 230.0, 0.23, "SH001", True, False),
            ("point", "SH001-E-MAIN", "electricity", SEP, 1000.0, 920.0, 80.0, 0.08, "SH001", True, False),
            ("point", "SH001-W-MAIN", "water", OCT, 100.0, 112.0, -12.0, -0.12, "SH001", True, False),
            ("point", "SH001-W-MAIN", "water", SEP, 100.0, 50.0, 50.0, 0.5, "SH001", False, False),
            ("point", "SH001-E-SUB1", "electricity", OCT, 770.0, None, None, None, "SH001", True, False),
            ("point", "BJ001-E-MAIN", "electricity", OCT, 100.0, 75.0, 25.0, 0.25, "BJ001", False, True),
            ("office", "SH001", "electricity", OCT, 1000.0, None, None, None, "SH001", True, False),
        ],
    )  # fmt: skip
    _table(
        con,
        "marts.contract_scores",
        "contract_no varchar, supplier_code varchar, office_code varchar, discipline varchar,"
        " month date, nonconformities bigint, breach_points bigint,"
        " deduction_amount decimal(18, 2), manual_points decimal(18, 2), score decimal(18, 2)",
        [
            ("HT-BJ001-CL", "SUP-CL01", "BJ001", "cleaning", OCT, 3, 20, 900, -2, 78),
            ("HT-BJ001-SE", "SUP-SE01", "BJ001", "security", OCT, 0, 0, 0, 0, 100),
            ("HT-BJ001-CL", "SUP-CL01", "BJ001", "cleaning", NOV, 5, 60, 3000, 0, 40),  # running
            ("HT-BJ001-CL", "SUP-CL01", "BJ001", "cleaning", SEP, 6, 70, 3500, 0, 30),  # before
        ],
    )
    tickets(con)
    [model] = [m for m in load_models() if m.table == "marts.control_tower"]
    run_model(con, model)
    return con


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)  # naive UTC, as the marts hold instants


def tickets(con: duckdb.DuckDBPyConnection) -> None:
    """BJ001's tickets (the other offices have none): three open complaints at levels 2, 1 and
    0, a closed one; night service by the office's clock (BX-6 came at 00:30 on 1 November in
    Beijing, still 31 October in UTC); resolution clocks of November and October."""
    _table(
        con,
        "marts.tickets",
        "ticket_no varchar, office_code varchar, type varchar, severity varchar,"
        " urgency varchar, night_service boolean, received_at timestamp,"
        " resolved_at timestamp, reopened_from varchar, escalation_level integer, state varchar",
        [
            ("TS-1", "BJ001", "complaint", "minor", None, False, utc(11, 2, 2), None, None, 2, "in_progress"),
            ("TS-2", "BJ001", "complaint", "minor", None, False, utc(11, 10, 2), utc(11, 12, 2), None, 1, "resolved"),
            ("TS-3", "BJ001", "complaint", "major", None, True, utc(11, 18, 15), None, None, 0, "dispatched"),
            ("TS-4", "BJ001", "complaint", "minor", None, False, utc(10, 5, 2), utc(10, 9, 2), None, 1, "closed"),
            ("BX-5", "BJ001", "repair", None, "urgent", True, utc(11, 19, 14), None, None, 0, "dispatched"),
            ("BX-6", "BJ001", "repair", None, "normal", True, utc(10, 31, 16, 30), None, None, 0, "closed"),
            ("ZX-7", "BJ001", "inquiry", None, None, False, utc(10, 10, 2), utc(10, 10, 3), None, 0, "closed"),
        ],
    )  # fmt: skip
    _table(
        con,
        "marts.complaint_escalations",
        "ticket_no varchar, office_code varchar, level integer, escalated_at timestamp,"
        " reason varchar, holder_role varchar",
        [
            ("TS-1", "BJ001", 1, utc(11, 4, 2), "timeout", "city_audit_manager"),
            ("TS-1", "BJ001", 2, utc(11, 6, 2), "timeout", "group_audit_manager"),
            ("TS-2", "BJ001", 1, utc(11, 13, 2), "unsatisfied", "city_audit_manager"),
            ("TS-4", "BJ001", 1, utc(10, 7, 2), "timeout", "city_audit_manager"),
        ],
    )
    _table(
        con,
        "marts.ticket_compliance",
        "office_code varchar, type varchar, clock varchar, month date, night_service boolean,"
        " total bigint, met bigint, breached bigint, pending bigint, compliance_pct double",
        [
            ("BJ001", "complaint", "resolution", NOV, False, 5, 3, 1, 1, 75.0),
            ("BJ001", "repair", "resolution", NOV, True, 2, 2, 0, 0, 100.0),
            ("BJ001", "complaint", "escalated_resolution", NOV, False, 1, 0, 1, 0, 0.0),
            ("BJ001", "repair", "pickup", NOV, True, 10, 0, 10, 0, 0.0),
            ("BJ001", "complaint", "resolution", OCT, False, 2, 2, 0, 0, 100.0),
        ],
    )
    [board] = [m for m in load_models() if m.table == "marts.open_complaints"]
    run_model(con, board)


def tower(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = con.sql(f"select {', '.join(COLUMNS)} from marts.control_tower").fetchall()
    out = {}
    for row in rows:
        named = dict(zip(COLUMNS, row, strict=True))
        for key in ("value", "previous_value", "score"):
            if named[key] is not None:
                named[key] = round(named[key], 4)
        out[(named["level"], named["node_code"], named["indicator"])] = named
    return out


def figures(rows: dict[tuple[str, str, str], dict[str, Any]], level: str, node: str):
    """indicator → (value, previous_value, status) of one node."""
    return {
        indicator: (row["value"], row["previous_value"], row["status"])
        for (lvl, code, indicator), row in rows.items()
        if (lvl, code) == (level, node)
    }


@pytest.fixture(scope="module")
def rows() -> dict[tuple[str, str, str], dict[str, Any]]:
    return tower(warehouse(AS_OF))


def test_the_columns_are_the_contract() -> None:
    con = warehouse(AS_OF)
    described = {
        name: kind for name, kind, *_ in con.sql("describe marts.control_tower").fetchall()
    }
    assert list(described) == COLUMNS
    assert described["value"] == described["score"] == "DOUBLE"
    assert described["period"] == described["period_end"] == "DATE"
    assert described["basis"] == "BIGINT"
    assert described["in_progress"] == "BOOLEAN"


def test_an_office_in_trouble_has_every_figure_judged(rows: dict[Any, dict[str, Any]]) -> None:
    assert figures(rows, "office", "SH001") == {
        # this month: 8 met of 12 finished; last month 9 of 10
        "sla_compliance": (66.6667, 90.0, "alert"),
        "open_orders": (30.0, None, "none"),
        "overdue_orders": (14.0, None, "alert"),
        "plan_coverage": (60.0, None, "alert"),
        # 1–19 November: 600 + 700 against 500 + 500 a year before (today's 999 not counted)
        "energy_electricity": (1300.0, 1000.0, "alert"),
        "energy_water": (50.0, None, "none"),  # nothing a year before: not judged
        "energy_exceptions": (2.0, None, "watch"),
        "energy_losses": (2.0, None, "alert"),  # two meters past ±10 %, one past ±20 %
    }


def test_losses_are_listed_per_meter_with_complete_data_only(
    rows: dict[Any, dict[str, Any]],
) -> None:
    points = {key[1]: row for key, row in rows.items() if key[0] == "point"}
    assert sorted(points) == ["SH001-E-MAIN", "SH001-W-MAIN"]  # BJ001's October is incomplete
    main, water = points["SH001-E-MAIN"], points["SH001-W-MAIN"]
    assert {k: main[k] for k in COLUMNS if k != "as_of"} == {
        "level": "point",
        "node_code": "SH001-E-MAIN",
        "group_code": "YY",
        "city_code": "SH",
        "office_code": "SH001",
        "indicator": "energy_loss",
        "detail": "主表",
        "period_kind": "month",
        "period": OCT,
        "period_end": date(2026, 10, 31),
        "in_progress": False,
        "value": 23.0,
        "previous_period": SEP,
        "previous_value": 8.0,
        "unit": "pct",
        "basis": None,
        "direction": "above",
        "threshold": 10.0,
        "alert_threshold": 20.0,
        "status": "alert",
        "severity": 2,
        "score": 1.15,  # 23 % is 1.15 times the alert threshold
    }
    # a negative loss (sub-meters reading more than their parent) is judged by its size; the
    # month before is incomplete, so there is nothing to compare with
    assert (water["value"], water["previous_value"], water["status"]) == (-12.0, None, "watch")


def test_small_samples_and_drops_since_last_month(rows: dict[Any, dict[str, Any]]) -> None:
    sh002 = figures(rows, "office", "SH002")
    assert sh002["sla_compliance"] == (75.0, 100.0, "none")  # 4 finished clocks: too few
    assert sh002["plan_coverage"] == (None, None, "none")  # no objects
    assert sh002["overdue_orders"] == (0.0, None, "ok")
    assert not {"energy_electricity", "energy_exceptions", "energy_losses"} & set(
        sh002
    )  # no meters
    bj001 = figures(rows, "office", "BJ001")
    assert bj001["sla_compliance"] == (90.0, 100.0, "watch")  # not below 90, but 10 pts down
    assert bj001["overdue_orders"] == (2.0, None, "watch")
    assert bj001["plan_coverage"] == (97.5, None, "ok")
    assert bj001["energy_electricity"] == (100.0, 90.0, "ok")  # +11 %
    assert bj001["energy_exceptions"] == (0.0, None, "ok")
    assert bj001["energy_losses"] == (0.0, None, "ok")


def test_city_and_group_totals_are_recomputed_from_the_counts(
    rows: dict[Any, dict[str, Any]],
) -> None:
    assert figures(rows, "city", "SH") == {
        "sla_compliance": (68.75, 95.0, "alert"),  # (8 + 3) of (12 + 4); 19 of 20
        "open_orders": (33.0, None, "none"),
        "overdue_orders": (14.0, None, "alert"),
        "plan_coverage": (60.0, None, "alert"),  # 30 of 50 objects
        "energy_electricity": (1300.0, 1000.0, "alert"),
        "energy_water": (50.0, None, "none"),
        "energy_exceptions": (2.0, None, "watch"),
        "energy_losses": (2.0, None, "alert"),
    }
    group = figures(rows, "group", "YY")
    assert group["sla_compliance"] == (82.6087, 97.5, "watch")  # 38 of 46; 39 of 40
    assert group["plan_coverage"] == (76.6667, None, "alert")  # 69 of 90
    assert group["energy_electricity"] == (1400.0, 1090.0, "watch")  # +28.4 %
    assert group["overdue_orders"] == (16.0, None, "alert")
    city = rows[("city", "SH", "sla_compliance")]
    assert (city["group_code"], city["city_code"], city["office_code"]) == ("YY", "SH", None)
    top = rows[("group", "YY", "sla_compliance")]
    assert (top["city_code"], top["office_code"], top["basis"]) == (None, None, 46)


def test_periods_mark_the_month_in_progress(rows: dict[Any, dict[str, Any]]) -> None:
    def period(key: tuple[str, str, str]) -> tuple[Any, ...]:
        row = rows[key]
        return (row["period_kind"], row["period"], row["period_end"], row["in_progress"])

    assert period(("office", "SH001", "sla_compliance")) == ("month", NOV, date(2026, 11, 20), True)
    assert rows[("office", "SH001", "sla_compliance")]["previous_period"] == OCT
    assert period(("office", "SH001", "energy_electricity")) == (
        "month",
        NOV,
        date(2026, 11, 19),
        True,
    )
    assert rows[("office", "SH001", "energy_electricity")]["previous_period"] == date(2025, 11, 1)
    snapshot = date(2026, 11, 20)
    assert period(("office", "SH001", "overdue_orders")) == ("as_of", snapshot, snapshot, False)
    assert period(("office", "SH001", "energy_losses")) == (
        "month",
        OCT,
        date(2026, 10, 31),
        False,
    )


def test_ranking_and_thresholds(rows: dict[Any, dict[str, Any]]) -> None:
    overdue = rows[("office", "SH001", "overdue_orders")]
    assert (overdue["threshold"], overdue["alert_threshold"], overdue["direction"]) == (
        1,
        10,
        "above",
    )
    assert (overdue["severity"], overdue["score"], overdue["basis"]) == (2, 1.4, 30)
    compliance = rows[("office", "SH001", "sla_compliance")]
    assert (compliance["threshold"], compliance["direction"], compliance["basis"]) == (
        90,
        "below",
        12,
    )
    assert compliance["score"] == 1.2  # 80 ÷ 66.7: how many times worse than the alert line
    assert rows[("office", "SH001", "open_orders")]["threshold"] is None
    assert {row["severity"] for row in rows.values() if row["status"] in ("ok", "none")} == {0}
    assert {row["severity"] for row in rows.values() if row["status"] == "watch"} == {1}
    energy = rows[("office", "SH001", "energy_electricity")]
    assert energy["score"] == 1.0  # +30 % against an alert threshold of +30 %


def test_office_local_months_at_a_month_end() -> None:
    """At 01:00 on 1 December in Shanghai it is still 30 November in Urumqi: each office's
    'this month' is its own, and on the 1st the energy figure is last month, whole."""
    con = warehouse(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), {"BJ001": "Asia/Urumqi"})
    rows = tower(con)
    sh = rows[("office", "SH001", "sla_compliance")]
    assert (sh["period"], sh["period_end"], sh["previous_period"]) == (
        date(2026, 12, 1),
        date(2026, 12, 1),
        NOV,
    )
    assert (sh["value"], sh["previous_value"]) == (None, 66.6667)
    bj = rows[("office", "BJ001", "sla_compliance")]
    assert (bj["period"], bj["value"]) == (NOV, 90.0)
    sh_energy = rows[("office", "SH001", "energy_electricity")]
    assert (sh_energy["period"], sh_energy["period_end"], sh_energy["in_progress"]) == (
        NOV,
        date(2026, 11, 30),
        False,
    )
    assert (sh_energy["value"], sh_energy["previous_value"]) == (2299.0, 1888.0)
    bj_energy = rows[("office", "BJ001", "energy_electricity")]
    assert (bj_energy["period_end"], bj_energy["in_progress"]) == (date(2026, 11, 29), True)
    losses = rows[("office", "SH001", "energy_losses")]
    assert (losses["period"], losses["value"]) == (NOV, 0.0)  # November has no loss data


def test_the_lowest_supplier_contract_score_of_the_last_complete_month(
    rows: dict[Any, dict[str, Any]],
) -> None:
    """An office's supplier figure is its worst contract of October (November is running);
    a total's is its offices' worst; offices without contracts have none."""
    bj = rows[("office", "BJ001", "supplier_score")]
    assert (bj["value"], bj["basis"], bj["unit"], bj["status"]) == (78.0, 2, "score", "alert")
    assert (bj["period"], bj["period_end"], bj["in_progress"]) == (OCT, date(2026, 10, 31), False)
    assert (bj["threshold"], bj["alert_threshold"], bj["direction"]) == (90.0, 80.0, "below")
    assert bj["score"] == 1.0256  # 80 ÷ 78
    assert figures(rows, "city", "BJ")["supplier_score"] == (78.0, None, "alert")
    assert figures(rows, "group", "YY")["supplier_score"] == (78.0, None, "alert")
    assert ("office", "SH001", "supplier_score") not in rows
    assert ("city", "SH", "supplier_score") not in rows


def test_the_owner_service_figures_of_an_office_with_tickets(
    rows: dict[Any, dict[str, Any]],
) -> None:
    owner_service = {
        # open: TS-1 (level 2), TS-2 (level 1, resolved, awaiting its visit), TS-3 (level 0)
        "open_complaints": (3.0, None, "none"),
        "escalated_level1": (1.0, None, "watch"),
        "escalated_level2": (1.0, None, "watch"),
        # resolution clocks finished in November: 3 + 2 met of 6; October 2 of 2 (pickup and
        # escalated_resolution clocks are not resolution)
        "ticket_resolution_compliance": (83.3333, 100.0, "watch"),
        # received in November (office time): TS-1, TS-2, TS-3, BX-5, BX-6; night: TS-3, BX-5,
        # BX-6; October: TS-4, ZX-7, none at night
        "night_service_share": (60.0, 0.0, "none"),
    }
    for level, node in (("office", "BJ001"), ("city", "BJ"), ("group", "YY")):
        shown = figures(rows, level, node)
        assert {k: shown[k] for k in owner_service} == owner_service, (level, node)
    # offices without tickets have no owner-service figures
    assert not set(owner_service) & set(figures(rows, "office", "SH001"))
    assert not set(owner_service) & set(figures(rows, "city", "SH"))
    level2 = rows[("office", "BJ001", "escalated_level2")]
    assert (level2["threshold"], level2["alert_threshold"], level2["basis"]) == (1.0, 3.0, 3)
    compliance = rows[("office", "BJ001", "ticket_resolution_compliance")]
    assert (compliance["basis"], compliance["period"], compliance["previous_period"]) == (
        6,
        NOV,
        OCT,
    )


def test_the_board_ages_open_complaints_in_business_buckets() -> None:
    con = warehouse(AS_OF)
    board = con.sql(
        "select ticket_no, escalation_level, holder_role, age_bucket, received_month"
        " from marts.open_complaints order by ticket_no"
    ).fetchall()
    assert board == [
        ("TS-1", 2, "group_audit_manager", "over_10d", NOV),  # 431.5 hours
        ("TS-2", 1, "city_audit_manager", "d5_10", NOV),  # 239.5 hours: under 10 days
        ("TS-3", 0, "office_manager", "d1_2", NOV),  # 34.5 hours
    ]
