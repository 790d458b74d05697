"""The shared energy vectors (tests/vectors/energy_interval_vectors.json) through the SQL.

Each case becomes raw operational tables in a fresh DuckDB file (as the extraction would leave
them: SQLite-style text instants, naive UTC), the staging/dim models run, then the energy build.
The operational core runs the same vectors through its Python implementation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from warehouse.energy import REQUIRED_MODELS, build_energy
from warehouse.models import load_models, run_models

VECTORS = Path(__file__).parents[1] / "vectors" / "energy_interval_vectors.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
TOL = 1e-6


def utc_text(iso: str) -> str:
    """ISO-8601 with offset → SQLite's naive UTC text."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(sep=" ")


def create_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Empty raw tables shaped like the operational ones (SQLite types: text instants)."""
    con.execute("create schema if not exists raw")
    con.execute("create or replace table raw.org_group (id bigint, code varchar, name varchar)")
    con.execute(
        "create or replace table raw.org_city_company"
        " (id bigint, group_id bigint, code varchar, name varchar)"
    )
    con.execute(
        "create or replace table raw.org_office"
        " (id bigint, city_id bigint, code varchar, name varchar, timezone varchar)"
    )
    con.execute(
        "create or replace table raw.energy_building"
        " (id bigint, office_id bigint, name varchar, area_m2 double)"
    )
    con.execute(
        "create or replace table raw.energy_point (id bigint, office_id bigint, code varchar,"
        " name varchar, kind varchar, parent_id bigint, building_id bigint, created_at varchar)"
    )
    con.execute(
        "create or replace table raw.energy_meter (id bigint, point_id bigint, serial varchar,"
        " multiplier double, digits bigint, installed_at varchar, initial_reading double,"
        " removed_at varchar, final_reading double)"
    )
    con.execute(
        "create or replace table raw.energy_reading (id bigint, point_id bigint, meter_id bigint,"
        " read_at varchar, reading double, source varchar, flag varchar, supersedes_id bigint,"
        " void bigint, entered_by varchar, entered_at varchar)"
    )
    con.execute(
        "create or replace table raw.energy_exception_followup (id bigint, point_id bigint,"
        " rule varchar, start_at varchar, note varchar, done bigint, followed_up_by varchar,"
        " followed_up_at varchar)"
    )


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: Iterable[Sequence[Any]]) -> None:
    rows = list(rows)
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into raw.{table} values ({marks})", rows)


def add_org(con: duckdb.DuckDBPyConnection, offices: dict[str, str]) -> dict[str, int]:
    """One group G, one city C, the offices {code: timezone}; returns office ids."""
    insert(con, "org_group", [(1, "G", "Group")])
    insert(con, "org_city_company", [(1, 1, "C", "City")])
    ids = {code: n for n, code in enumerate(sorted(offices), start=1)}
    insert(con, "org_office", [(ids[c], 1, c, c, tz) for c, tz in offices.items()])
    return ids


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Run the models the energy build needs."""
    run_models(con, [m for m in load_models() if m.table in REQUIRED_MODELS])


def load_case(con: duckdb.DuckDBPyConnection, case: dict[str, Any]) -> None:
    create_raw(con)
    add_org(con, {"O1": case["timezone"]})
    insert(con, "energy_point", [(1, 1, "P1", "point", "electricity", None, None, None)])
    reading_id = 0
    for meter_id, inst in enumerate(case["installations"], start=1):
        insert(
            con,
            "energy_meter",
            [
                (
                    meter_id,
                    1,
                    f"S{meter_id}",
                    float(inst["multiplier"]),
                    inst["digits"],
                    utc_text(inst["installed_at"]),
                    float(inst["initial_reading"]),
                    inst["removed_at"] and utc_text(inst["removed_at"]),
                    None if inst["final_reading"] is None else float(inst["final_reading"]),
                )
            ],
        )
        for r in inst["readings"]:
            reading_id += 1
            insert(
                con,
                "energy_reading",
                [
                    (
                        reading_id,
                        1,
                        meter_id,
                        utc_text(r["read_at"]),
                        float(r["reading"]),
                        "import",
                        None,
                        None,
                        0,
                        "test",
                        "2026-01-01 00:00:00",
                    )
                ],
            )


def as_utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_energy_vector(case: dict[str, Any], tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load_case(con, case)
        prepare(con)
        build_energy(con, as_of=date(2027, 1, 1), full=True)
        intervals = con.sql(
            "select start_at, end_at, delta, status from marts.energy_intervals order by start_at"
        ).fetchall()
        expected = case["expected_intervals"]
        assert [(r[0], r[1], r[3]) for r in intervals] == [
            (as_utc(e["start"]), as_utc(e["end"]), e["status"]) for e in expected
        ]
        for got, want in zip(intervals, expected, strict=True):
            if want["delta"] is None:
                assert got[2] is None
            else:
                assert got[2] == pytest.approx(float(Decimal(want["delta"])), abs=TOL)
        daily = con.sql(
            "select day, consumption, estimated from marts.energy_daily order by day"
        ).fetchall()
        want_daily = case["expected_daily"]
        assert [(d[0].isoformat(), d[2]) for d in daily] == [
            (e["day"], e["estimated"]) for e in want_daily
        ]
        for got_day, want_day in zip(daily, want_daily, strict=True):
            assert got_day[1] == pytest.approx(float(Decimal(want_day["consumption"])), abs=TOL)


def test_vectors_file_shape() -> None:
    assert len(CASES) >= 15
    for case in CASES:
        assert set(case) >= {
            "name",
            "timezone",
            "installations",
            "expected_intervals",
            "expected_daily",
        }
        for inst in case["installations"]:
            assert set(inst) == {
                "multiplier",
                "digits",
                "installed_at",
                "initial_reading",
                "removed_at",
                "final_reading",
                "readings",
            }
