"""One bad stored value must never stop the group: an operational database holding rows the
entry checks would refuse today (written before they existed, here with raw SQL) still publishes.
The bad metering points and documents are held out and listed for their office; every other
office's figures are exactly those of a build without the bad rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from pipelines.run import run_pipeline
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from warehouse.publish import Warehouse

AS_OF = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:  # two offices: SH001 and BJ001
            load_demo(session, DemoOptions(offices=2, days=7, seed=7, now=AS_OF))
        engine.dispose()
        yield url


def _corrupt_sh001(url: str) -> None:
    """Legacy rows at office SH001, written around the services: an infinite (SQLite) or
    oversized (PostgreSQL's numeric refuses infinity) reading, a reading dated 1900, and a
    go-live corrective order dated 1900 with its event and clock."""
    engine = sa.create_engine(url)
    sqlite = url.startswith("sqlite")
    with engine.begin() as con:

        def point(code: str) -> tuple[int, int]:
            row = con.execute(
                sa.text(
                    "select p.id, m.id from energy_point p join energy_meter m"
                    " on m.point_id = p.id and m.removed_at is null where p.code = :code"
                ),
                {"code": code},
            ).one()
            return int(row[0]), int(row[1])

        reading = (
            "insert into energy_reading (id, point_id, meter_id, read_at, reading, source,"
            " void, entered_by, entered_at) values (:id, :point, :meter, :at, :value, 'import',"
            " :void, 'legacy', :at)"
        )
        main, main_meter = point("SH001-E-MAIN")
        water, water_meter = point("SH001-W-MAIN")
        for row in (
            (900001, main, main_meter, "2026-11-18 03:17:00", 1e400 if sqlite else 9.99e14),
            (900002, water, water_meter, "1900-01-01 00:00:00", 1.0),
        ):
            con.execute(
                sa.text(reading),
                dict(zip(("id", "point", "meter", "at", "value"), row, strict=True))
                | {"void": False},
            )
        office = con.execute(sa.text("select id from org_office where code = 'SH001'")).scalar()
        con.execute(
            sa.text(
                "insert into maint_corrective_order (discipline, title, description,"
                " responsible_id, id, document_no, office_id, state, version, created_at)"
                " select discipline, title, description, responsible_id, 900001,"
                " 'CM-SH001-LEGACY', office_id, 'open', 1, '1900-03-01 01:00:00'"
                " from maint_corrective_order where office_id = :office order by id limit 1"
            ),
            {"office": office},
        )
        con.execute(
            sa.text(
                "insert into workflow_event (id, document_type, document_id, document_no,"
                " office_id, transition, from_state, to_state, actor, at, payload)"
                " values (900001, 'corrective_order', 900001, 'CM-SH001-LEGACY', :office,"
                " 'raise', null, 'open', 'legacy', '1900-03-01 01:00:00', '{}')"
            ),
            {"office": office},
        )
        con.execute(
            sa.text(
                "insert into workflow_clock (id, document_type, document_id, document_no,"
                " office_id, clock, target_amount, target_unit, calendar, started_at, due_at,"
                " started_event_id) values (900001, 'corrective_order', 900001,"
                " 'CM-SH001-LEGACY', :office, 'completion', 72, 'calendar_hours', '24x7',"
                " '1900-03-01 01:00:00', '1900-03-04 01:00:00', 900001)"
            ),
            {"office": office},
        )
    engine.dispose()


def _published(directory: Path) -> duckdb.DuckDBPyConnection:
    path = Warehouse(directory).current_path()
    assert path is not None, "nothing published"
    return duckdb.connect(str(path), read_only=True)


def _office_figures(con: duckdb.DuckDBPyConnection, office: str) -> dict[str, Any]:
    return {
        "energy_monthly": con.sql(
            "select * from marts.energy_monthly where office_code = $o order by all",
            params={"o": office},
        ).fetchall(),
        "energy_daily": con.sql(
            "select * from marts.energy_daily where office_code = $o order by all",
            params={"o": office},
        ).fetchall(),
        "sla_compliance": con.sql(
            "select * from marts.sla_compliance where office_code = $o order by all",
            params={"o": office},
        ).fetchall(),
        "sla_clocks": con.sql(
            "select * exclude (clock_id, document_id, office_id) from marts.sla_clocks"
            " where office_code = $o order by all",
            params={"o": office},
        ).fetchall(),
        "order_throughput": con.sql(
            "select * from marts.order_throughput where office_code = $o order by all",
            params={"o": office},
        ).fetchall(),
    }


@pytest.mark.slow
def test_a_build_over_bad_legacy_rows_publishes_and_lists_them(
    demo_url: str, tmp_path: Path
) -> None:
    run_pipeline(demo_url, tmp_path / "clean", AS_OF)
    with _published(tmp_path / "clean") as con:
        clean = _office_figures(con, "BJ001")
        clean_sh_orders = con.sql(
            "select count(*) from marts.sla_clocks where office_code = 'SH001'"
        ).fetchall()[0][0]
    _corrupt_sh001(demo_url)

    run_pipeline(demo_url, tmp_path / "bad", AS_OF)  # publishes (would raise otherwise)

    with _published(tmp_path / "bad") as con:
        assert _office_figures(con, "BJ001") == clean
        held = con.sql(
            "select point_code, office_code, rule, held_reason from marts.energy_exceptions"
            " where rule = 'point_held' order by point_code"
        ).fetchall()
        reason = (
            "reading_not_finite" if demo_url.startswith("sqlite") else ("reading_beyond_register")
        )
        assert held == [
            ("SH001-E-MAIN", "SH001", "point_held", reason),
            ("SH001-W-MAIN", "SH001", "point_held", "instant_before_2000"),
        ]
        # the held points count nowhere: SH001's totals are incomplete, never infinite
        office = con.sql(
            "select max(consumption), bool_or(complete) from marts.energy_monthly"
            " where level in ('office', 'group') and office_code is distinct from 'BJ001'"
        ).fetchall()[0]
        assert office[0] is not None and office[0] < 1e9 and office[1] is False
        assert con.sql(
            "select office_code, document_type, document_no, reason from marts.held_documents"
        ).fetchall() == [("SH001", "corrective_order", "CM-SH001-LEGACY", "instant_before_2000")]
        # the legacy order stretches no month range; SH001's other orders are all there
        months = con.sql(
            "select min(month) from (select month from marts.sla_compliance"
            " union all select month from marts.order_throughput)"
        ).fetchall()[0][0]
        assert months >= date(2026, 1, 1)
        assert con.sql(
            "select count(*) from marts.sla_clocks where office_code = 'SH001'"
        ).fetchall() == [(clean_sh_orders,)]
