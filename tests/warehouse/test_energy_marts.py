"""Energy marts: roll-ups, loss, checks, and the dashboard read API on a published file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_energy_incremental import AS_OF, seed
from test_energy_vectors import prepare

from pipelines.defs.energy import (
    CHECK_NO_NEGATIVE,
    CHECK_OFFICE_IS_ROOTS,
    days_add_up_sql,
)
from warehouse.energy import build_energy
from warehouse.publish import Warehouse
from warehouse.queries_energy import EnergyReader
from warehouse.scope import OfficeScope


@pytest.fixture
def published(tmp_path: Path) -> Path:
    warehouse = Warehouse(tmp_path)
    path = warehouse.begin_build("v1")
    with duckdb.connect(str(path)) as con:
        seed(con, days=40)  # readings up to 2026-02-10 00:00 local (02-09 16:00 UTC)
        build_energy(con, as_of=date(2026, 2, 9), full=True)
        con.execute(
            "create table marts.dim_office as select distinct group_code, group_code as"
            " group_name, city_code, city_code as city_name, office_code, office_code as"
            " office_name, timezone from marts.dim_energy_point"
        )
        con.execute("checkpoint")
    warehouse.publish(path)
    return tmp_path


def reader(published: Path, offices: set[str] | None = None) -> EnergyReader:
    """The energy reader of ``published`` bound to ``offices`` (None: every office)."""
    return EnergyReader(published, OfficeScope.of(offices))


def test_monthly_rollups_and_loss(published: Path) -> None:
    energy = reader(published)
    jan = date(2026, 1, 1)
    office = energy.monthly("office", "O1", "electricity")
    assert office.filter(office["month"] == jan)["consumption"].item() == pytest.approx(3100)
    building = energy.monthly("building", "O1/B1", "electricity")
    assert building["consumption"][0] == pytest.approx(40 * 31)
    group = energy.monthly("group", "G", "electricity")
    assert group["consumption"][0] == pytest.approx((100 + 10) * 31)
    loss = energy.loss("M")
    row = loss.filter(loss["month"] == jan).row(0, named=True)
    assert row["children_consumption"] == pytest.approx(90 * 31)
    assert row["loss"] == pytest.approx(10 * 31)
    assert row["loss_pct"] == pytest.approx(0.1)
    assert row["complete"]
    # February has not ended by as_of = 2026-02-09 (and its readings stop on 2026-02-10 local):
    # incomplete, and so is its loss.
    feb = loss.filter(loss["month"] == date(2026, 2, 1)).row(0, named=True)
    assert not feb["complete"] and feb["loss"] is None
    assert energy.yearly("office", "O1", "electricity")["consumption"][0] > 0


@pytest.mark.slow  # builds of the energy marts
def test_current_month_is_never_complete(tmp_path: Path) -> None:
    """Data covering every day up to as_of does not make the month complete: it has not ended."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=20)  # readings at local midnight up to 2026-01-21 00:00: Jan 1–20 covered
        build_energy(con, as_of=date(2026, 1, 21), full=True)
        rows = con.sql(
            "select level, node_code, complete from marts.energy_monthly"
            " where month = '2026-01-01' order by all"
        ).fetchall()
        assert rows and not any(complete for _, _, complete in rows)
        assert con.sql(
            "select loss from marts.energy_monthly where level = 'point' and node_code = 'M'"
        ).fetchall() == [(None,)]
        # once the month has ended and every local day is covered, it is complete
    with duckdb.connect(str(tmp_path / "w2.duckdb")) as con:
        seed(con, days=32)  # up to 2026-02-02 00:00 local: all of January covered
        build_energy(con, as_of=date(2026, 2, 2), full=True)
        jan = con.sql(
            "select bool_and(complete) from marts.energy_monthly where month = '2026-01-01'"
        ).fetchall()
        feb = con.sql(
            "select bool_or(complete) from marts.energy_monthly where month = '2026-02-01'"
        ).fetchall()
        assert jan == [(True,)] and feb == [(False,)]


def test_scope_limits_every_query(published: Path) -> None:
    energy, only_o2, nothing = (
        reader(published),
        reader(published, {"O2"}),
        reader(published, set()),
    )
    year = (date(2026, 1, 1), date(2026, 12, 1))
    assert only_o2.monthly("office", "O1", "electricity").is_empty()
    assert only_o2.monthly("group", "G", "electricity").is_empty()
    assert only_o2.monthly("city", "C", "electricity").is_empty()  # O1 is in city C too
    assert not only_o2.monthly("office", "O2", "electricity").is_empty()
    assert only_o2.daily("M", date(2026, 1, 1), date(2026, 1, 31)).is_empty()
    assert only_o2.daily("X", date(2026, 1, 1), date(2026, 1, 31)).height == 31
    assert energy.children("group", "G", "electricity", *year)["node_code"].to_list() == ["C"]
    assert only_o2.children("group", "G", "electricity", *year).is_empty()
    assert only_o2.children("city", "C", "electricity", *year)["node_code"].to_list() == ["O2"]
    office_kids = energy.children("office", "O1", "electricity", *year)
    assert set(office_kids["node_code"]) == {"O1/B1", "M"}
    assert nothing.children("office", "O1", "electricity", *year).is_empty()
    per_m2 = energy.per_m2("electricity", date(2026, 1, 1), date(2026, 1, 1))
    assert per_m2["consumption_per_m2"][0] == pytest.approx(40 * 31 / 1000)
    assert only_o2.per_m2("electricity", date(2026, 1, 1), date(2026, 1, 1)).is_empty()
    yoy = energy.this_year_vs_last("office", "O1", "electricity", 2026)
    assert yoy.height == 12 and yoy["this_year"][0] == pytest.approx(3100)
    daily_node = energy.daily_node(
        "office", "O1", "electricity", date(2026, 1, 1), date(2026, 1, 2)
    )
    assert daily_node["consumption"].to_list() == [pytest.approx(100), pytest.approx(100)]
    assert energy.exceptions().is_empty()
    assert nothing.points("electricity").is_empty()
    assert set(only_o2.points("electricity")["office_code"]) == {"O2"}


def test_a_city_scope_sees_its_city_total_not_the_group(published: Path) -> None:
    """Both offices of city C in scope: the city's totals are theirs, the group's are not when
    the group has offices elsewhere (here it has none, so the group is visible too)."""
    city = reader(published, {"O1", "O2"})
    assert not city.monthly("city", "C", "electricity").is_empty()
    totals = city.visible_totals()
    assert set(zip(totals["level"], totals["code"], strict=True)) == {("city", "C"), ("group", "G")}
    assert reader(published, {"O1"}).visible_totals().is_empty()


def test_daily_node_reads_the_daily_rollups(published: Path) -> None:
    energy = reader(published)
    jan = (date(2026, 1, 1), date(2026, 1, 31))
    for level, node in (("group", "G"), ("city", "C")):
        frame = energy.daily_node(level, node, "electricity", *jan)
        assert frame.height == 31 and frame["consumption"][0] == pytest.approx(110)
        assert reader(published, {"O1"}).daily_node(level, node, "electricity", *jan).is_empty()
    building = energy.daily_node("building", "O1/B1", "electricity", *jan)
    assert building["consumption"][4] == pytest.approx(40)
    only_o2 = reader(published, {"O2"})
    assert only_o2.daily_node("building", "O1/B1", "electricity", *jan).is_empty()
    point = reader(published, {"O1"}).daily_node("point", "S2", "electricity", *jan)
    assert point["consumption"].to_list() == [pytest.approx(50)] * 31
    assert energy.daily_node("point", "S2", "water", *jan).is_empty()


def test_checks_pass_and_catch(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        for check in (days_add_up_sql(con), CHECK_NO_NEGATIVE, CHECK_OFFICE_IS_ROOTS):
            assert con.sql(check).fetchall() == []
        # per interval: its day shares add up to it
        con.execute(
            "update marts.energy_daily set consumption = consumption + 1 where day = '2026-01-05' and point_code = 'S1'"
        )
        assert con.sql(days_add_up_sql(con)).fetchall() != []
        con.execute(
            "update marts.energy_monthly set consumption = -1 where level = 'office' and node_code = 'O2'"
        )
        assert con.sql(CHECK_NO_NEGATIVE).fetchall() != []
        assert con.sql(CHECK_OFFICE_IS_ROOTS).fetchall() != []


def test_a_refresh_checks_the_days_of_the_points_it_recomputed(tmp_path: Path) -> None:
    from test_energy_vectors import insert

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert con.sql("select count(*) from energy.build_scope").fetchall() == [(4,)]
        insert(
            con,
            "energy_reading",
            [(1000, 2, 2, "2026-01-21 16:00:00", 40.0 * 21, "import", None, None, 0, "t", None)],
        )
        build_energy(con, as_of=AS_OF)
        assert con.sql("select point_id from energy.build_scope").fetchall() == [(2,)]
        assert con.sql(days_add_up_sql(con)).fetchall() == []
        # the new day of S1 (point 2) written wrong by this refresh is caught
        con.execute(
            "update marts.energy_daily set consumption = consumption + 1"
            " where day = '2026-01-21' and point_code = 'S1'"
        )
        assert [row[0] for row in con.sql(days_add_up_sql(con)).fetchall()] == [2]


@pytest.mark.slow  # a build and refreshes of the energy marts
def test_a_refresh_checks_its_days_from_the_first_one_it_rewrote(tmp_path: Path) -> None:
    """The check of a refresh covers the rewritten days only: it holds when an old interval
    straddles the start of the first rewritten day (its share after that start counts) and
    catches a wrong day there."""
    from test_energy_vectors import insert

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        # 04:00 local on the 22nd: the interval from the 21st's midnight straddles midnight
        row = (2, 2, "2026-01-21 20:00:00", 848.0, "import", None, None, 0, "t", None)
        insert(con, "energy_reading", [(1000, *row)])
        build_energy(con, as_of=AS_OF)
        row = (2, 2, "2026-01-22 20:00:00", 888.0, "import", None, None, 0, "t", None)
        insert(con, "energy_reading", [(1001, *row)])
        build_energy(con, as_of=AS_OF)
        assert con.sql("select point_id, from_day from energy.build_scope").fetchall() == [
            (2, date(2026, 1, 22))
        ]
        assert con.sql(days_add_up_sql(con)).fetchall() == []
        con.execute(
            "update marts.energy_daily set consumption = consumption + 1"
            " where day = '2026-01-22' and point_code = 'S1'"
        )
        assert [row[0] for row in con.sql(days_add_up_sql(con)).fetchall()] == [2]


def test_held_interval_is_an_exception_and_makes_the_month_incomplete(tmp_path: Path) -> None:
    from test_energy_vectors import insert

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        # S2 (no roll-over possible: a 6-digit register, 50/day) reads lower on 2026-01-21
        insert(
            con,
            "energy_reading",
            [(999, 3, 3, "2026-01-21 16:00:00", 10.0, "form", None, None, 0, "t", None)],
        )
        build_energy(con, as_of=AS_OF, full=True)
        rules = con.sql("select point_code, rule from marts.energy_exceptions").fetchall()
        assert rules == [("S2", "held")]
        row = con.sql(
            "select complete, loss from marts.energy_monthly where level = 'point'"
            " and node_code = 'M' and month = '2026-01-01'"
        ).fetchall()[0]
        assert row == (False, None)


def test_typical_daily_use_where_the_status_can_depend_on_it(tmp_path: Path) -> None:
    """The median is computed for intervals that could be high or rolled over and for those
    ending on a reading flagged at entry; a plainly ok interval keeps it null. No interval is
    lost on the way (an interval ending on a meter's final reading has no end reading id)."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)  # 20 daily readings per point, steady use
        con.execute(
            "update raw.energy_meter set removed_at = '2026-01-20 18:00:00', final_reading = 200.5"
            " where id = 4"
        )
        con.execute("update raw.energy_reading set flag = 'high' where id = 40")  # X, day 10
        # S2 uses 50/day; on day 15 it jumps by 500: high against a typical of 50
        con.execute(
            "update raw.energy_reading set reading = reading + 450 where point_id = 3 and id >= 59"
        )
        prepare(con)
        build_energy(con, as_of=AS_OF, full=True)
        counts = dict(
            con.sql("select point_id, count(*) from marts.energy_intervals group by all").fetchall()
        )
        assert counts == {1: 20, 2: 20, 3: 20, 4: 21}
        rows = con.sql(
            "select point_id, end_reading_id, status, typical_daily from marts.energy_intervals"
            " where typical_daily is not null order by all"
        ).fetchall()
        assert (4, 40, "ok", pytest.approx(10.0)) in rows
        assert (3, 59, "high", pytest.approx(50.0)) in rows
        assert {r[1] for r in rows} == {40, 59}
        rules = con.sql("select point_code, rule from marts.energy_exceptions order by all")
        assert rules.fetchall() == [("S2", "high"), ("X", "entry_flag_high")]


def _daily_at_nine(con: duckdb.DuckDBPyConnection, skip: set[int]) -> None:
    """X (point 4) read every day at 09:00 local from 2026-01-01 to 2026-02-28 (its meter
    installed at 09:00 on 1 January), except on the days of ``skip`` (day numbers from 1)."""
    from datetime import timedelta

    from test_energy_vectors import insert

    con.execute("delete from raw.energy_reading where point_id = 4")
    con.execute("update raw.energy_meter set installed_at = '2026-01-01 01:00:00' where id = 4")
    rows = []
    for n in range(1, 59):
        if n not in skip:
            at = f"{date(2026, 1, 1) + timedelta(days=n)} 01:00:00"
            rows.append((5000 + n, 4, 4, at, 10.0 * n, "import", None, None, 0, "t", None))
    insert(con, "energy_reading", rows)
    prepare(con)


@pytest.mark.slow  # a build of the energy marts
def test_daily_readings_straddling_midnight_are_not_estimated(tmp_path: Path) -> None:
    """Readings every morning: no day, month or roll-up of them is estimated; a missed reading
    (a 48 h interval) marks the days it feeds and their month, office and group as estimated."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=59)
        _daily_at_nine(con, skip=set())
        build_energy(con, as_of=date(2026, 3, 2), full=True)
        assert con.sql(
            "select count(*) filter (where estimated), count(*) from marts.energy_daily"
            " where point_code = 'X'"
        ).fetchall() == [(0, 59)]
        assert con.sql(
            "select bool_or(estimated) from marts.energy_monthly where node_code in ('X', 'O2')"
        ).fetchall() == [(False,)]
        _daily_at_nine(con, skip={20})  # no reading on the morning of 21 January
        build_energy(con, as_of=date(2026, 3, 2), full=True)
        estimated = con.sql(
            "select day from marts.energy_daily where point_code = 'X' and estimated order by day"
        ).fetchall()
        assert estimated == [(date(2026, 1, 20),), (date(2026, 1, 21),), (date(2026, 1, 22),)]
        monthly = dict(
            con.sql(
                "select level || ' ' || cast(month as varchar), estimated"
                " from marts.energy_monthly where node_code in ('X', 'O2', 'G')"
            ).fetchall()
        )
        assert monthly == {
            "point 2026-01-01": True,
            "point 2026-02-01": False,
            "office 2026-01-01": True,
            "office 2026-02-01": False,
            "group 2026-01-01": True,
            "group 2026-02-01": False,
        }
        nodes = con.sql(
            "select level, bool_or(estimated) from marts.energy_daily_node"
            " where node_code in ('O2', 'G') and day = '2026-01-21' group by level order by level"
        ).fetchall()
        assert nodes == [("group", True), ("office", True)]


def test_the_month_of_as_of_is_in_progress_on_the_office_clock(tmp_path: Path) -> None:
    """as_of 2026-01-31 17:00 UTC is 1 February 01:00 in Shanghai: January has ended there
    (complete, not in progress) and February is in progress, at every level."""
    from datetime import datetime

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=31)  # up to 1 February 00:00 local: all of January covered
        build_energy(con, as_of=datetime(2026, 1, 31, 17), full=True)
        rows = con.sql(
            "select month, bool_and(in_progress), bool_or(in_progress), bool_and(complete)"
            " from marts.energy_monthly group by month order by month"
        ).fetchall()
        assert rows == [(date(2026, 1, 1), False, False, True)]
        build_energy(con, as_of=datetime(2026, 1, 31, 15))  # 23:00 in Shanghai: not yet
        rows = con.sql(
            "select month, bool_and(in_progress), bool_or(complete)"
            " from marts.energy_monthly group by month order by month"
        ).fetchall()
        assert rows == [(date(2026, 1, 1), True, False)]


@pytest.mark.slow  # a build of the energy marts
def test_an_exception_carries_the_offices_latest_follow_up(tmp_path: Path) -> None:
    from test_energy_vectors import insert

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        insert(
            con,
            "energy_reading",
            [(999, 3, 3, "2026-01-21 16:00:00", 10.0, "form", None, None, 0, "t", None)],
        )
        prepare(con)
        build_energy(con, as_of=AS_OF, full=True)
        key = con.sql(
            "select point_id, rule, start_at, done, follow_up_note from marts.energy_exceptions"
        ).fetchall()
        assert [k[3:] for k in key] == [(False, None)]
        point_id, rule, start_at = key[0][:3]
        insert(
            con,
            "energy_exception_followup",
            [
                (1, point_id, rule, str(start_at), "asked for a re-read", 0, "eng", "2026-02-01"),
                (2, point_id, rule, str(start_at), "meter checked", 1, "mgr", "2026-02-02"),
                (3, point_id, "high", str(start_at), "another exception", 0, "mgr", "2026-02-03"),
            ],
        )
        prepare(con)
        build_energy(con, as_of=AS_OF)
        assert con.sql(
            "select point_code, rule, done, follow_up_note, followed_up_by"
            " from marts.energy_exceptions"
        ).fetchall() == [("S2", "held", True, "meter checked", "mgr")]


@pytest.mark.slow  # a build of the energy marts
def test_reader_months_in_progress_and_the_exceptions_under_a_node(tmp_path: Path) -> None:
    from test_energy_vectors import insert

    warehouse = Warehouse(tmp_path)
    path = warehouse.begin_build("v1")
    with duckdb.connect(str(path)) as con:
        seed(con, days=40)
        insert(  # S2 (O1) reads lower: held; X (O2) gets a reading dated 1900: point held
            con,
            "energy_reading",
            [
                (998, 3, 3, "2026-01-21 16:00:00", 10.0, "form", None, None, 0, "t", None),
                (999, 4, 4, "1900-01-01 00:00:00", 1.0, "import", None, None, 0, "t", None),
            ],
        )
        insert(
            con,
            "energy_exception_followup",
            [(1, 3, "held", "2026-01-21 16:00:00", "re-read", 1, "mgr", "2026-02-03")],
        )
        prepare(con)
        build_energy(con, as_of=date(2026, 2, 9), full=True)
        con.execute(
            "create table marts.dim_office as select distinct group_code, group_code as"
            " group_name, city_code, city_code as city_name, office_code, office_code as"
            " office_name, timezone from marts.dim_energy_point"
        )
        con.execute("checkpoint")
    warehouse.publish(path)
    energy = reader(tmp_path)
    months = energy.monthly_progress("office", "O1", "electricity")
    assert months.select("month", "in_progress").rows() == [
        (date(2026, 1, 1), False),
        (date(2026, 2, 1), True),
    ]
    assert reader(tmp_path, {"O2"}).monthly_progress("office", "O1", "electricity").is_empty()
    group = energy.node_exceptions("group", "G", "electricity")
    # to follow up first, newest first; then the done ones
    assert group.select("point_code", "rule", "done", "held_reason").rows() == [
        ("S2", "high", False, None),  # the day after the lower reading
        ("X", "point_held", False, "instant_before_2000"),
        ("S2", "held", True, None),
    ]
    assert (group["total"][0], group["open_total"][0]) == (3, 2)
    office = reader(tmp_path, {"O1"}).node_exceptions("office", "O1", "electricity")
    assert office["point_code"].to_list() == ["S2", "S2"]
    assert reader(tmp_path, {"O2"}).node_exceptions("group", "G", "electricity")[
        "point_code"
    ].to_list() == ["X"]
    assert energy.node_exceptions("building", "O1/B1", "electricity").is_empty()
    first = energy.node_exceptions("group", "G", "electricity", limit=1)
    assert first.height == 1 and first["total"][0] == 3
