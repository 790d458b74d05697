"""One bad stored value must never stop the group: a point whose stored rows are unusable is held
(left out of every total, listed for its office) and everything else is published as before."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_energy_incremental import AS_OF, seed, snapshot
from test_energy_vectors import insert, prepare

from pipelines.defs.energy import CHECK_NO_NEGATIVE, CHECK_OFFICE_IS_ROOTS, days_add_up_sql
from warehouse.energy import build_energy

pytestmark = pytest.mark.slow  # pipeline builds: `make test` runs them, `make check` does not

# X (point 4, meter 4) is the only point of office O2; O1 holds M, S1, S2.
BAD_READINGS = {
    "not_finite": ("2026-01-10 18:00:00", float("inf"), "reading_not_finite"),
    "not_a_number": ("2026-01-10 18:00:00", float("nan"), "reading_not_finite"),
    "beyond_register": ("2026-01-10 18:00:00", 1e13, "reading_beyond_register"),
    "negative": ("2026-01-10 18:00:00", -5.0, "reading_beyond_register"),
    "before_2000": ("1900-01-01 00:00:00", 50.0, "instant_before_2000"),
    "year_one": ("0001-01-01 00:00:00", 50.0, "instant_before_2000"),
    "in_the_future": ("2099-01-01 00:00:00", 50.0, "instant_in_future"),
}
BAD_METERS = {
    "meter_installed_1900": ("installed_at = '1900-01-01 00:00:00'", "instant_before_2000"),
    "negative_multiplier": ("multiplier = -1", "meter_not_usable"),
    "register_of_400_digits": ("digits = 400", "meter_not_usable"),
}


def o1_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the marts say about office O1 and its points (M, S1, S2)."""
    return {
        table: con.sql(f"select * from marts.{table} where {where} order by all").fetchall()
        for table, where in (
            ("energy_daily", "office_code = 'O1'"),
            ("energy_daily_node", "office_code = 'O1'"),
            ("energy_monthly", "office_code = 'O1'"),
            ("energy_exceptions", "office_code = 'O1'"),
            ("energy_intervals", "point_id in (1, 2, 3)"),
        )
    }


def checks_pass(con: duckdb.DuckDBPyConnection) -> bool:
    return all(
        con.sql(sql).fetchall() == []
        for sql in (days_add_up_sql(con), CHECK_NO_NEGATIVE, CHECK_OFFICE_IS_ROOTS)
    )


@pytest.fixture
def clean(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(tmp_path / "clean.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        return o1_rows(con)


def assert_held(con: duckdb.DuckDBPyConnection, reason: str) -> None:
    exceptions = con.sql(  # one row per stored row that holds the point
        "select distinct point_code, office_code, rule, held_reason from marts.energy_exceptions"
        " where rule = 'point_held'"
    ).fetchall()
    assert exceptions == [("X", "O2", "point_held", reason)]
    assert con.sql("select count(*) from marts.energy_daily where point_code = 'X'").fetchall() == [
        (0,)
    ]
    # X is O2's only point: O2 has no total; the group's leaves X out, so it is never complete
    assert con.sql(
        "select count(*) from marts.energy_monthly where node_code in ('O2', 'X')"
    ).fetchall() == [(0,)]
    group = con.sql(
        "select bool_or(complete) from marts.energy_monthly where level = 'group'"
    ).fetchall()
    assert group == [(False,)]
    assert checks_pass(con)


@pytest.mark.parametrize("case", sorted(BAD_READINGS))
def test_a_bad_reading_holds_its_point_and_the_rest_is_published(
    case: str, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]]
) -> None:
    read_at, value, reason = BAD_READINGS[case]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        insert(
            con,
            "energy_reading",
            [(999, 4, 4, read_at, value, "import", None, None, 0, "t", None)],
        )
        build_energy(con, as_of=AS_OF, full=True)
        assert_held(con, reason)
        assert o1_rows(con) == clean


@pytest.mark.parametrize("case", sorted(BAD_METERS))
def test_an_unusable_installation_holds_its_point(
    case: str, tmp_path: Path, clean: dict[str, list[tuple[Any, ...]]]
) -> None:
    change, reason = BAD_METERS[case]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        con.execute(f"update raw.energy_meter set {change} where id = 4")
        prepare(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert_held(con, reason)
        assert o1_rows(con) == clean


def test_a_refresh_holds_a_point_and_releases_it_once_corrected(tmp_path: Path) -> None:
    """The bad reading arrives in a refresh; its correction (a superseding row) releases the
    point, whose figures come back whole — each refresh equal to a full build of the same data."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        before = snapshot(con)
        insert(
            con,
            "energy_reading",
            [(999, 4, 4, "1900-01-01 00:00:00", 1e400, "import", None, None, 0, "t", None)],
        )
        build_energy(con, as_of=AS_OF)
        assert_held(con, "reading_not_finite")
        held = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == held
        # withdrawn (a void row superseding it): X counts again, as before the bad row
        insert(
            con,
            "energy_reading",
            [(1000, 4, 4, "1900-01-01 00:00:00", 0.0, "form", None, 999, 1, "t", None)],
        )
        build_energy(con, as_of=AS_OF)
        assert con.sql("select count(*) from marts.energy_exceptions").fetchall() == [(0,)]
        assert snapshot(con) == before
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == before


def test_a_reading_in_the_future_is_released_when_as_of_reaches_it(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=20)  # up to 2026-01-21 00:00 local
        insert(
            con,
            "energy_reading",
            [(999, 4, 4, "2026-01-25 16:00:00", 250.0, "import", None, None, 0, "t", None)],
        )
        build_energy(con, as_of=date(2026, 1, 21), full=True)
        assert_held(con, "instant_in_future")
        build_energy(con, as_of=datetime(2026, 1, 25, 12))  # 16:00 is within a day of it
        assert con.sql("select count(*) from marts.energy_exceptions").fetchall() == [(0,)]
        assert con.sql(
            "select max(day) from marts.energy_daily where point_code = 'X'"
        ).fetchall() == [(date(2026, 1, 25),)]


def test_a_register_shortened_in_place_holds_the_point_in_a_refresh(tmp_path: Path) -> None:
    """A meter's digits changed in place (6 → 2) leave its earlier readings beyond the register:
    the refresh examines them again and holds the point, as a full build does."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        con.execute("update raw.energy_meter set digits = 2 where id = 4")  # X reads up to 200
        prepare(con)
        build_energy(con, as_of=AS_OF)
        assert_held(con, "reading_beyond_register")
        refreshed = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == refreshed
