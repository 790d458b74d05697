"""Nonconformity clocks join ``marts.sla_clocks``: a database worked live (a notice acknowledged
within its working day, a handling order verified late, a corrective-and-preventive order still
open), built into the warehouse, gives one ``completion`` clock per ticket with its kind's
document type, the ticket's discipline, the live deadline and the state a user would expect
(docs/nonconformities.md, docs/sla-clocks.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import duckdb
import pytest

from operational.auth import Principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.org import ensure_group
from operational.models import Nonconformity
from operational.services import nonconformities as ncs
from tests.conftest import BACKENDS, fresh_database_url
from tests.db_support import migrated
from tests.operational.test_supplier_imports import load_contracts
from tests.operational.test_workflow_support import T0, build_world
from tests.warehouse.test_sla_incremental import assert_same_as_scratch, people, refresh
from tests.warehouse.test_tickets_marts import _build

H = timedelta(hours=1)


@pytest.fixture(scope="module", params=BACKENDS)
def worked_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    for url in fresh_database_url(request.param, tmp_path_factory.mktemp("ncs")):
        migrated(url)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            ensure_group(session, "YY", "一应物业集团")
            w = build_world(session)
            load_contracts(session, w)
            clean = w["clean"]

            def open_(kind: str, clean: Principal = clean, **extra: object) -> Nonconformity:
                return ncs.open_nonconformity(
                    session,
                    clean,
                    office_code="OF1",
                    kind=kind,
                    discipline="cleaning",
                    description=f"{kind} at the lobby",
                    at=T0,
                    assignee="tech",
                    **extra,  # type: ignore[arg-type]
                )

            notice = open_("notice")
            ncs.act(session, w["tech"], notice, "acknowledge", notice.version, at=T0 + 2 * H)
            handling = open_("handling", contract_no="K1", breach_points=1)
            ncs.act(
                session,
                w["tech"],
                handling,
                "handle",
                handling.version,
                text="done",
                at=T0 + 70 * H,
            )
            ncs.act(session, clean, handling, "verify", handling.version, at=T0 + 73 * H)
            open_("corrective_preventive", contract_no="K1", breach_points=2)
        engine.dispose()
        yield url


def test_each_kind_has_its_clock_in_sla_clocks(worked_url: str) -> None:
    con = _build(worked_url, T0 + 10 * 24 * H)
    rows = con.sql(
        "select document_type, clock, discipline, state, due_at = stored_due_at, stopped_at"
        " from marts.sla_clocks where document_type like 'nonconformity_%' order by all"
    ).fetchall()
    naive = T0.astimezone(UTC).replace(tzinfo=None)
    assert rows == [
        # a week round the clock, not done after ten days
        ("nonconformity_corrective", "completion", "cleaning", "breached", True, None),
        # 72 h round the clock; verified an hour late
        ("nonconformity_handling", "completion", "cleaning", "breached", True, naive + 73 * H),
        # a working day of the office (480 business minutes); acknowledged after two hours
        ("nonconformity_notice", "completion", "cleaning", "met", True, naive + 2 * H),
    ]
    # The scores read the same tickets as before: opened and closed instants and the points.
    scores = con.sql(
        "select nonconformities, breach_points from marts.contract_scores"
        " where contract_no = 'K1' and month = date '2026-03-01'"
    ).fetchall()
    assert scores == [(2, 3)]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_incremental_refresh_follows_the_tickets_steps(backend: str, tmp_path: Path) -> None:
    """Tickets opened and worked between two builds: the refresh recomputes their clocks
    incrementally and gives what a build from scratch gives."""
    for url in fresh_database_url(backend, tmp_path):
        migrated(url)
        engine = create_db_engine(url)
        try:
            with unit_of_work(engine) as session:
                ensure_group(session, "YY", "一应物业集团")
                w = build_world(session)
                load_contracts(session, w)
                nc = ncs.open_nonconformity(
                    session,
                    w["clean"],
                    office_code="OF1",
                    kind="handling",
                    discipline="cleaning",
                    description="x",
                    at=T0,
                    assignee="tech",
                )
                number = nc.document_no
            con = duckdb.connect(str(tmp_path / f"{backend}.duckdb"))
            first = refresh(url, con, T0 + H)
            assert first.mode == "full"
            with unit_of_work(engine) as session:
                w = people(session)
                nc = ncs.get_nonconformity(session, w["clean"], number)
                ncs.act(session, w["tech"], nc, "handle", nc.version, text="done", at=T0 + 2 * H)
                ncs.act(session, w["clean"], nc, "verify", nc.version, at=T0 + 3 * H)
                ncs.open_nonconformity(
                    session,
                    w["clean"],
                    office_code="OF1",
                    kind="notice",
                    discipline="cleaning",
                    description="y",
                    at=T0 + 3 * H,
                    assignee="tech",
                )
            stats = refresh(url, con, T0 + 4 * H)
            assert (stats.mode, stats.documents) == ("incremental", 2)
            assert con.sql(
                "select document_type, state from marts.sla_clocks order by 1"
            ).fetchall() == [("nonconformity_handling", "met"), ("nonconformity_notice", "pending")]
            assert_same_as_scratch(url, con, T0 + 4 * H)
            con.close()
        finally:
            engine.dispose()
