"""The quality review mart (``marts.quality_review``, docs/quality-marts.md) on a built warehouse:
two demo offices with four months of inspections (the bulk history, then eight weeks walked
through the services; failed items opening nonconformities), built,
and every figure of the mart compared with what the operational tables say when counted another
way (plain SQL on the operational database, office-local months in Python)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
from sqlalchemy import text

from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from tests.conftest import fresh_database_url
from tests.db_support import migrated
from warehouse import sla
from warehouse.extract import SOURCES, OperationalSource, database_backend, extract_table
from warehouse.models import load_models, run_model, write_run_params

# Every test reads a 120-day demo of two offices built once: `make test` runs them, `make check`
# does not (the quality review's figures are also read by tests/warehouse/test_inspection_clocks.py
# and the dashboards' quality page tests).
# One worker runs this module, so its module-scoped demo and its build are made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making them.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("quality-review")]

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def build(url: str, as_of: datetime) -> duckdb.DuckDBPyConnection:
    """Every non-energy model, the SLA clocks, then the models reading them (as the pipeline)."""
    con = duckdb.connect()
    with OperationalSource(url) as database:  # one connection for every table, as a pipeline run
        for source in SOURCES:
            extract_table(database, con, source.table)
    write_run_params(con, version="t", as_of=as_of, database_backend=database_backend(url))
    models = [
        m
        for m in load_models()
        if "energy" not in m.name and not any("energy" in t for t in m.depends_on)
    ]
    late: set[str] = set()
    for m in models:
        if any(d.startswith("sla.") or d == "marts.sla_clocks" for d in m.depends_on) or (
            m.depends_on & late
        ):
            late.add(m.table)
    for m in models:
        if m.table not in late:
            run_model(con, m)
    sla.build_sla_clocks(con)
    for m in models:
        if m.table in late:
            run_model(con, m)
    return con


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for url in fresh_database_url("sqlite", tmp_path_factory.mktemp("quality")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            load_demo(session, DemoOptions(offices=2, days=120, seed=3, now=NOW))
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def built(demo_url: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The demo built once at NOW (the tests only read it)."""
    con = build(demo_url, NOW)
    yield con
    con.close()


@pytest.fixture(scope="module")
def mart(built: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    cursor = built.sql("select * from marts.quality_review")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _month(at: datetime) -> object:
    return at.replace(tzinfo=UTC).astimezone(SHANGHAI).date().replace(day=1)


def _sum(rows: list[dict[str, object]], column: str, **where: object) -> int:
    return sum(
        int(r[column])  # type: ignore[call-overload]
        for r in rows
        if all(r[k] == v for k, v in where.items())
    )


def test_inspection_figures_match_the_operational_tables(
    demo_url: str, mart: list[dict[str, object]]
) -> None:
    engine = create_db_engine(demo_url)
    with engine.connect() as c:
        orders = c.execute(
            text(
                "select o.code, i.discipline, i.kind, i.scheduled_for, i.state,"
                " (select count(*) from insp_score s where s.order_id = i.id"
                "  and s.score < s.pass_mark),"
                " (select sum(s.score) from insp_score s where s.order_id = i.id),"
                " (select sum(s.max_score) from insp_score s where s.order_id = i.id"
                "  and s.score is not null)"
                " from insp_order i join org_office o on o.id = i.office_id"
            )
        ).all()
    engine.dispose()
    assert orders, "the demo wrote inspection orders"
    due: Counter[tuple[object, ...]] = Counter()
    executed: Counter[tuple[object, ...]] = Counter()
    failed: Counter[tuple[object, ...]] = Counter()
    points: Counter[tuple[object, ...]] = Counter()
    maximum: Counter[tuple[object, ...]] = Counter()
    today = NOW.astimezone(SHANGHAI).date()
    for code, discipline, kind, day, state, fails, scored, out_of in orders:
        day = datetime.fromisoformat(str(day)).date()
        if day > today:
            continue
        key = (code, discipline, kind, day.replace(day=1))
        due[key] += 1
        if state == "submitted":
            executed[key] += 1
            failed[key] += fails
            points[key] += scored or 0
            maximum[key] += out_of or 0
    for key, count in due.items():
        where = dict(zip(("office_code", "discipline", "kind", "month"), key, strict=True))
        assert _sum(mart, "orders_due", **where) == count, key
        assert _sum(mart, "orders_executed", **where) == executed[key], key
        assert _sum(mart, "items_failed", **where) == failed[key], key
        [row] = [r for r in mart if all(r[k] == v for k, v in where.items())]
        if maximum[key]:
            assert row["inspection_score"] == pytest.approx(100 * points[key] / maximum[key])
    assert sum(failed.values()) > 0, "some items failed"


def test_plans_count_in_the_months_their_approved_schedule_covers(
    demo_url: str, mart: list[dict[str, object]]
) -> None:
    engine = create_db_engine(demo_url)
    with engine.connect() as c:
        plans = c.execute(
            text(
                "select o.code, p.discipline, p.kind, p.start_date, p.end_date, p.approved_at"
                " from insp_plan p join org_office o on o.id = p.office_id"
                " where p.state = 'approved'"
            )
        ).all()
    engine.dispose()
    expected: Counter[tuple[object, ...]] = Counter()
    today = NOW.astimezone(SHANGHAI).date()
    for code, discipline, kind, start, end, approved_at in plans:
        approved = datetime.fromisoformat(str(approved_at)).replace(tzinfo=UTC)
        first = max(datetime.fromisoformat(str(start)).date(), approved.astimezone(SHANGHAI).date())
        last = min(datetime.fromisoformat(str(end)).date() if end else today, today)
        month = first.replace(day=1)
        while month <= last:
            expected[(code, discipline, kind, month)] += 1
            month = (month + timedelta(days=32)).replace(day=1)
    assert len({key[0] for key in expected}) == 2  # both offices have plans
    counted = {
        (r["office_code"], r["discipline"], r["kind"], r["month"]): r["plans_approved"]
        for r in mart
        if r["plans_approved"]
    }
    assert counted == dict(expected)


def test_failed_items_open_nonconformities_counted_by_kind(
    demo_url: str, mart: list[dict[str, object]]
) -> None:
    engine = create_db_engine(demo_url)
    with engine.connect() as c:
        ncs = c.execute(
            text(
                "select o.code, n.discipline, coalesce(("
                "  select min(i.kind) from insp_score s join insp_order i on i.id = s.order_id"
                "  where s.nonconformity_id = n.id), 'other'), n.opened_at, n.closed_at"
                " from supplier_nonconformity n join org_office o on o.id = n.office_id"
            )
        ).all()
        unlinked_failures = c.execute(
            text(
                "select count(*) from insp_score s join insp_order i on i.id = s.order_id"
                " where i.state = 'submitted' and s.score < s.pass_mark"
                " and s.nonconformity_id is null"
            )
        ).scalar_one()
    engine.dispose()
    assert unlinked_failures == 0  # a failed item is never submitted without its ticket
    opened: Counter[tuple[object, ...]] = Counter()
    closed: Counter[tuple[object, ...]] = Counter()
    hours: Counter[tuple[object, ...]] = Counter()
    for code, discipline, kind, opened_at, closed_at in ncs:
        opened_at = datetime.fromisoformat(str(opened_at))
        if opened_at.replace(tzinfo=UTC) > NOW:
            continue
        opened[(code, discipline, kind, _month(opened_at))] += 1
        if closed_at is not None:
            closed_at = datetime.fromisoformat(str(closed_at))
            if closed_at.replace(tzinfo=UTC) <= NOW:
                key = (code, discipline, kind, _month(closed_at))
                closed[key] += 1
                hours[key] += (closed_at - opened_at) / timedelta(hours=1)
    assert {k[2] for k in opened} >= {"professional", "other"}
    for key, count in opened.items():
        where = dict(zip(("office_code", "discipline", "kind", "month"), key, strict=True))
        assert _sum(mart, "nonconformities_opened", **where) == count, key
    for key, count in closed.items():
        where = dict(zip(("office_code", "discipline", "kind", "month"), key, strict=True))
        assert _sum(mart, "nonconformities_closed", **where) == count, key
        [row] = [r for r in mart if all(r[k] == v for k, v in where.items())]
        assert row["closure_hours"] == pytest.approx(hours[key])
    assert sum(r["nonconformities_opened"] for r in mart) == sum(opened.values())  # type: ignore[misc]


def test_closure_compliance_reads_the_nonconformity_clocks(
    built: duckdb.DuckDBPyConnection, mart: list[dict[str, object]]
) -> None:
    con = built
    met, breached = con.sql(
        "select count(*) filter (where state = 'met'), count(*) filter (where state = 'breached')"
        " from marts.sla_clocks where document_type like 'nonconformity_%'"
    ).fetchall()[0]
    assert met + breached > 0
    assert sum(r["nc_clocks_met"] for r in mart) == met  # type: ignore[misc]
    assert sum(r["nc_clocks_breached"] for r in mart) == breached  # type: ignore[misc]
    for row in mart:
        finished = row["nc_clocks_met"] + row["nc_clocks_breached"]  # type: ignore[operator]
        if finished:
            assert row["closure_compliance_pct"] == pytest.approx(
                100 * row["nc_clocks_met"] / finished  # type: ignore[operator]
            )
        else:
            assert row["closure_compliance_pct"] is None


def test_an_earlier_as_of_counts_nothing_after_it(demo_url: str) -> None:
    """Built at an earlier instant, orders submitted later are due but not executed and
    nonconformities opened later are not counted."""
    earlier = NOW - timedelta(days=10)
    con = build(demo_url, earlier)
    last_month = con.sql(
        "select max(month) from marts.quality_review where orders_due > 0"
    ).fetchall()[0][0]
    assert last_month == earlier.astimezone(SHANGHAI).date().replace(day=1)
    (late,) = con.sql(
        "select count(*) from raw.supplier_nonconformity n"
        " where n.opened_at > (select as_of from raw.run_params)"
    ).fetchall()[0]
    (counted,) = con.sql("select sum(nonconformities_opened) from marts.quality_review").fetchall()[
        0
    ]
    (stored,) = con.sql("select count(*) from raw.supplier_nonconformity").fetchall()[0]
    assert late > 0 and counted == stored - late


def test_failed_items_are_counted_per_item_as_the_review_counts_them(
    demo_url: str, built: duckdb.DuckDBPyConnection, mart: list[dict[str, object]]
) -> None:
    """marts.inspection_item_failures: each item name's scores and failures on the executed
    orders, by office, discipline, kind and month, as the operational tables say; summed over
    the item names, the review's items_scored and items_failed."""
    con = built
    cursor = con.sql("select * from marts.inspection_item_failures")
    names = [d[0] for d in cursor.description]
    items = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert names == [
        "office_code",
        "discipline",
        "kind",
        "month",
        "item_name",
        "items_scored",
        "items_failed",
        "score_points",
        "max_points",
    ]
    engine = create_db_engine(demo_url)
    with engine.connect() as c:
        scores = c.execute(
            text(
                "select o.code, i.discipline, i.kind, i.scheduled_for, s.name, s.score,"
                " s.pass_mark, s.max_score from insp_score s join insp_order i on i.id = s.order_id"
                " join org_office o on o.id = i.office_id"
                " where i.state = 'submitted' and s.score is not null"
            )
        ).all()
    engine.dispose()
    today = NOW.astimezone(SHANGHAI).date()
    scored: Counter[tuple[object, ...]] = Counter()
    failed: Counter[tuple[object, ...]] = Counter()
    points: Counter[tuple[object, ...]] = Counter()
    maxima: Counter[tuple[object, ...]] = Counter()
    for code, discipline, kind, day, name, score, pass_mark, max_score in scores:
        day = datetime.fromisoformat(str(day)).date()
        if day > today:
            continue
        key = (code, discipline, kind, day.replace(day=1), name)
        scored[key] += 1
        failed[key] += score < pass_mark
        points[key] += score
        maxima[key] += max_score
    counted = {
        (r["office_code"], r["discipline"], r["kind"], r["month"], r["item_name"]): (
            r["items_scored"],
            r["items_failed"],
            r["score_points"],
            r["max_points"],
        )
        for r in items
    }
    assert counted == {key: (scored[key], failed[key], points[key], maxima[key]) for key in scored}
    assert sum(failed.values()) > 0, "some items failed"
    for row in mart:
        where = {k: row[k] for k in ("office_code", "discipline", "kind", "month")}
        assert _sum(items, "items_scored", **where) == row["items_scored"], where
        assert _sum(items, "items_failed", **where) == row["items_failed"], where
        assert _sum(items, "score_points", **where) == row["score_points"], where
        assert _sum(items, "max_points", **where) == row["max_points"], where


def test_the_demo_inspects_customer_service_too(mart: list[dict[str, object]]) -> None:
    """The fifth discipline in the demo's review: customer-service inspections scored (with
    failures) in the bulk history and in the weeks walked through the services, at both
    offices."""
    service = [r for r in mart if r["discipline"] == "customer_service" and r["items_scored"]]
    assert {r["office_code"] for r in service} == {r["office_code"] for r in mart}
    months = sorted({r["month"] for r in service})
    assert months[0] < (NOW - timedelta(weeks=8)).date().replace(day=1) < months[-1]
    assert sum(int(r["items_failed"]) for r in service) > 0  # type: ignore[call-overload]
    assert {r["kind"] for r in service} == {"professional"}
