"""Incremental energy builds: a correction changes exactly the days it affects; a new day's
refresh recomputes only the new days; incremental and full builds agree."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_energy_vectors import add_org, create_raw, insert, prepare

from warehouse import energy
from warehouse.energy import build_energy

pytestmark = pytest.mark.slow  # builds the energy marts again and again: `make test` runs them

AS_OF = date(2026, 3, 1)


def seed(con: duckdb.DuckDBPyConnection, days: int = 20) -> None:
    """Two offices; a master point with two sub-meters in O1, one point in O2; daily readings at
    local midnight (16:00 UTC the day before) for ``days`` days from 2026-01-01."""
    create_raw(con)
    add_org(con, {"O1": "Asia/Shanghai", "O2": "Asia/Shanghai"})
    insert(con, "energy_building", [(1, 1, "B1", 1000.0)])
    insert(
        con,
        "energy_point",
        [
            (1, 1, "M", "master", "electricity", None, None, None),
            (2, 1, "S1", "sub 1", "electricity", 1, 1, None),
            (3, 1, "S2", "sub 2", "electricity", 1, None, None),
            (4, 2, "X", "other", "electricity", None, None, None),
        ],
    )
    insert(
        con,
        "energy_meter",
        [(p, p, f"S{p}", 1.0, 6, "2025-12-31 16:00:00", 0.0, None, None) for p in (1, 2, 3, 4)],
    )
    rows: list[tuple[Any, ...]] = []
    rate = {1: 100.0, 2: 40.0, 3: 50.0, 4: 10.0}
    n = 0
    for d in range(1, days + 1):
        for p in (1, 2, 3, 4):
            n += 1
            rows.append(
                (
                    n,
                    p,
                    p,
                    f"{date(2025, 12, 31) + timedelta(days=d)} 16:00:00",
                    rate[p] * d,
                    "import",
                    None,
                    None,
                    0,
                    "t",
                    None,
                )
            )
    insert(con, "energy_reading", rows)
    prepare(con)


def daily(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, date], tuple[float, bool]]:
    rows = con.sql(
        "select point_code, day, consumption, estimated from marts.energy_daily"
    ).fetchall()
    return {(r[0], r[1]): (round(r[2], 9), r[3]) for r in rows}


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: con.sql(f"select * from marts.{t} order by all").fetchall()
        for t in ("energy_daily", "energy_daily_node", "energy_monthly", "energy_exceptions")
    } | {
        # what a refresh computes typical daily use from: the same however the file was built
        "point_history": con.sql("select * from energy.point_history order by all").fetchall(),
        "energy_intervals": con.sql(
            "select * exclude (typical_daily) from marts.energy_intervals order by all"
        ).fetchall(),
    }


def test_correction_changes_exactly_the_affected_days(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        before = daily(con)
        # reading 38 = S1 at local midnight starting 2026-01-11: 400 → corrected to 380
        insert(
            con,
            "energy_reading",
            [(1000, 2, 2, "2026-01-10 16:00:00", 380.0, "form", None, 38, 0, "t", None)],
        )
        stats = build_energy(con, as_of=AS_OF)
        after = daily(con)
        changed = {k for k in before if before[k] != after.get(k)} | (after.keys() - before.keys())
        # the day ending at the corrected reading and the day starting at it
        assert changed == {("S1", date(2026, 1, 10)), ("S1", date(2026, 1, 11))}
        assert after[("S1", date(2026, 1, 10))][0] == 20.0
        assert after[("S1", date(2026, 1, 11))][0] == 60.0
        assert stats.mode == "incremental" and stats.points_in_scope == 1
        # the same as a full rebuild
        incremental = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == incremental


def test_void_withdraws_a_reading(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        insert(
            con,
            "energy_reading",
            [(1000, 4, 4, "2026-01-20 16:00:00", 200.0, "form", None, 80, 1, "t", None)],
        )
        build_energy(con, as_of=AS_OF)
        after = daily(con)
        assert ("X", date(2026, 1, 19)) in after
        assert ("X", date(2026, 1, 20)) not in after  # the last reading withdrawn
        incremental = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == incremental


def test_refresh_after_one_new_day_touches_only_the_new_day(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        total_days = con.sql("select count(*) from marts.energy_daily").fetchall()[0][0]
        insert(
            con,
            "energy_reading",
            [
                (1000 + p, p, p, "2026-01-21 16:00:00", r * 21, "import", None, None, 0, "t", None)
                for p, r in ((1, 100.0), (2, 40.0), (3, 50.0), (4, 10.0))
            ],
        )
        stats = build_energy(con, as_of=AS_OF)
        assert stats.mode == "incremental"
        assert (stats.intervals_deleted, stats.intervals_inserted) == (0, 4)
        assert (stats.days_deleted, stats.days_inserted) == (0, 4)
        assert con.sql("select count(*) from marts.energy_daily").fetchall()[0][0] == total_days + 4
        log = con.sql(
            "select mode, days_inserted from energy.build_log order by built_at"
        ).fetchall()
        assert [m for m, _ in log] == ["full", "incremental"]
        incremental = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == incremental


def test_replacement_recomputes_from_the_swap(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con)
        build_energy(con, as_of=AS_OF, full=True)
        con.execute(
            "update raw.energy_meter set removed_at = '2026-01-21 04:00:00', final_reading = 205"
            " where id = 4"
        )
        insert(con, "energy_meter", [(5, 4, "N", 2.0, 4, "2026-01-21 04:00:00", 0.0, None, None)])
        insert(
            con,
            "energy_reading",
            [(1000, 4, 5, "2026-01-21 16:00:00", 6.0, "import", None, None, 0, "t", None)],
        )
        prepare(con)
        build_energy(con, as_of=AS_OF)
        after = daily(con)
        # (205 - 200) x 1 on the old meter + (6 - 0) x 2 on the new one, same local day
        assert after[("X", date(2026, 1, 21))] == (17.0, False)
        incremental = snapshot(con)
        build_energy(con, as_of=AS_OF, full=True)
        assert snapshot(con) == incremental


def monthly(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.sql("select * from marts.energy_monthly order by all").fetchall()


def test_month_that_ends_between_builds_becomes_complete(tmp_path: Path) -> None:
    """January's readings cover the whole month; built as of 31 January it is not complete (it
    has not ended), built incrementally a day later it is — as a full build says."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        # up to 1 February 00:00 local (31 January 16:00 UTC): no later than as_of + 1 day
        seed(con, days=31)
        build_energy(con, as_of=date(2026, 1, 31), full=True)
        office = "select complete, consumption from marts.energy_monthly where level = 'office'"
        jan = f"{office} and node_code = 'O1' and month = date '2026-01-01'"
        assert con.sql(jan).fetchall() == [(False, 3100.0)]
        stats = build_energy(con, as_of=date(2026, 2, 1))
        assert stats.mode == "unchanged"
        assert con.sql(jan).fetchall() == [(True, 3100.0)]
        incremental = monthly(con)
        build_energy(con, as_of=date(2026, 2, 1), full=True)
        assert monthly(con) == incremental


def test_new_readings_and_a_later_as_of_redo_only_what_changed(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=40)
        build_energy(con, as_of=date(2026, 2, 10), full=True)
        january = [r for r in monthly(con) if r[3] == date(2026, 1, 1)]
        insert(
            con,
            "energy_reading",
            [
                (1000 + p, p, p, "2026-02-10 16:00:00", r * 41, "import", None, None, 0, "t", None)
                for p, r in ((1, 100.0), (2, 40.0), (3, 50.0), (4, 10.0))
            ],
        )
        build_energy(con, as_of=date(2026, 3, 2))
        incremental = monthly(con)
        assert [r for r in incremental if r[3] == date(2026, 1, 1)] == january
        build_energy(con, as_of=date(2026, 3, 2), full=True)
        assert monthly(con) == incremental


def test_a_sub_meter_moved_under_another_parent_redoes_every_month(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        seed(con, days=40)
        build_energy(con, as_of=AS_OF, full=True)
        con.execute("update raw.energy_point set parent_id = null where id = 3")
        prepare(con)
        build_energy(con, as_of=AS_OF)
        incremental = monthly(con)
        loss = [r for r in incremental if r[0] == "point" and r[1] == "M"]
        assert loss and all(r[5] == 40.0 * r[4] / 100.0 for r in loss)  # children: S1 only
        build_energy(con, as_of=AS_OF, full=True)
        assert monthly(con) == incremental


def test_a_full_build_in_buckets_of_points_equals_one_pass(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """At scale a full build computes intervals and days a share of the points at a time (to
    bound its memory); the marts are the same as computing every point at once."""

    def built(name: str, bucket_readings: int) -> dict[str, list[tuple[Any, ...]]]:
        monkeypatch.setattr(energy, "BUCKET_READINGS", bucket_readings)
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            seed(con, days=40)
            # an outlier on S1 (kept, flagged high) and a lower reading on X (held)
            insert(
                con,
                "energy_reading",
                [
                    (
                        1000,
                        2,
                        2,
                        "2026-02-09 16:00:00",
                        40.0 * 40 + 5000,
                        "import",
                        None,
                        None,
                        0,
                        "t",
                        None,
                    ),
                    (1001, 4, 4, "2026-02-10 16:00:00", 5.0, "import", None, None, 0, "t", None),
                ],
            )
            prepare(con)
            stats = build_energy(con, as_of=AS_OF, full=True)
            assert stats.mode == "full"
            steps = con.sql("select count(*) from energy.build_steps where step = 'days: spread'")
            spreads = steps.fetchall()[0][0]
            tables = snapshot(con) | {
                "energy_intervals": con.sql(
                    "select * from marts.energy_intervals order by all"
                ).fetchall()
            }
        return tables | {"spreads": [(spreads,)]}

    whole = built("whole", 10_000_000)
    # 166 readings → 7 shares of 25; a point's readings stay in one range of point ids, so the
    # 4 points with readings (≈ 40 each) make 4 buckets
    buckets = built("buckets", 25)
    assert whole.pop("spreads") == [(1,)]
    assert buckets.pop("spreads") == [(4,)]
    assert {r[-1] for r in whole["energy_intervals"]} == {"ok", "high", "held"}
    assert buckets == whole
