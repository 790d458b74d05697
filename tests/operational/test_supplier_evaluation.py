"""The monthly supplier evaluation (operational.services.suppliers): the office enters signed
points per item; every bad field is named at once and nothing is written; the office manager
evaluates only their office's contracts; each change is audited; the contract's month shows the
figures of the live rule (docs/supplier-marts.md) — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.errors import FormRejected, NotFound
from operational.imports.suppliers import import_nonconformity_rows
from operational.models import AuditEntry, SupplierScoreEntry
from operational.services.suppliers import (
    contract_month,
    evaluation_contracts,
    save_evaluation,
)
from tests.operational.test_supplier_imports import NC_COLUMNS, load_contracts, rows
from tests.operational.test_workflow_support import build_world

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
FEB = date(2026, 2, 1)


def _entries(session: Session) -> dict[str, Decimal]:
    return {
        e.item: e.points
        for e in session.scalars(select(SupplierScoreEntry).order_by(SupplierScoreEntry.item))
    }


def test_the_office_enters_points_and_sees_the_live_figures(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    import_nonconformity_rows(
        session,
        rows(
            NC_COLUMNS,
            ("NC-1", "OF1", "corrective_preventive", "cleaning", "2026-02-01 00:30", "", "K1", "2"),
            ("NC-2", "OF1", "notice", "cleaning", "2026-02-03 09:00", "", "K1", ""),
        ),
        actor=world["admin"],
    )
    manager = world["mgr"]
    assert [c.contract_no for c in evaluation_contracts(session, manager)] == ["K1"]
    view = save_evaluation(
        session,
        manager,
        "K1",
        FEB,
        {"staffing": "-2", "training": "+1.5", "tools": "", "other": "－0.5"},
        now=NOW,
    )
    assert _entries(session) == {
        "其他 other": Decimal("-0.50"),
        "培训 training": Decimal("1.50"),
        "缺编 staffing shortfall": Decimal("-2.00"),
    }
    figures = view.figures
    assert figures is not None
    # 100 − 2 breach points − 2 + 1.5 − 0.5
    assert (figures.nonconformities, figures.breach_points) == (2, 2)
    assert (figures.deduction_amount, figures.manual_points, figures.score) == (
        Decimal("100.00"),
        Decimal("-1.00"),
        Decimal("97.00"),
    )
    assert [(n.nc_no, n.amount) for n in view.nonconformities] == [
        ("NC-1", Decimal(100)),
        ("NC-2", Decimal(0)),
    ]
    # blank removes an item; the change is audited with before and after
    save_evaluation(
        session, manager, "K1", FEB, {"staffing": "-2", "training": "", "other": ""}, now=NOW
    )
    assert _entries(session) == {"缺编 staffing shortfall": Decimal("-2.00")}
    [first, second] = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "supplier_evaluation").order_by(AuditEntry.id)
    ).all()
    assert (first.actor, first.entity_key) == ("mgr", "K1/2026-02")
    assert second.before == {
        "其他 other": "-0.50",
        "培训 training": "1.50",
        "缺编 staffing shortfall": "-2.00",
    }
    assert second.after == {"缺编 staffing shortfall": "-2.00"}
    # the same again changes nothing and records nothing
    save_evaluation(session, manager, "K1", FEB, {"staffing": "-2"}, now=NOW)
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "supplier_evaluation")
        )
        == 2
    )


def test_every_bad_field_is_named_and_nothing_is_written(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    with pytest.raises(FormRejected) as caught:
        save_evaluation(
            session,
            world["mgr"],
            "K1",
            date(2026, 5, 1),  # not begun at NOW
            {"staffing": "a lot", "training": "1.005", "tools": "1000000", "other": "2"},
            now=NOW,
        )
    assert caught.value.fields() == ["month", "staffing", "training", "tools"]
    assert caught.value.messages("en") == [
        "Contract K1 cannot be evaluated for 2026-05: it does not score that month (not active,"
        " or the month has not begun).",
        "Staffing shortfall: not a number.",
        "Training sessions: at most two decimals.",
        "Tools and materials: at most ±99999.99 points.",
    ]
    assert _entries(session) == {}


def test_another_offices_contract_is_not_found(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    with pytest.raises(NotFound):
        save_evaluation(session, world["mgr"], "K2", FEB, {"staffing": "-1"}, now=NOW)
    with pytest.raises(NotFound):  # a supervisor may view but not evaluate
        save_evaluation(session, world["clean"], "K1", FEB, {"staffing": "-1"}, now=NOW)
    with pytest.raises(NotFound):  # a technician views no supplier figures
        contract_month(session, world["tech"], "K1", FEB, now=NOW)
    assert contract_month(session, world["clean"], "K1", FEB, now=NOW).scored
    assert _entries(session) == {}
    # the group administrator evaluates every office's contracts
    save_evaluation(session, world["admin"], "K2", FEB, {"tools": "-0.5"}, now=NOW)
    assert _entries(session) == {"工具物料 tools and materials": Decimal("-0.50")}
