"""The demo's suppliers: contracts for the first offices with a history the ranking can show,
loaded through the supplier imports, and a second run that adds nothing."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.demo import DemoOptions, org_rows
from operational.demo.suppliers import suppliers_step
from operational.imports.org import import_org_rows
from operational.models import (
    AuditEntry,
    Group,
    Nonconformity,
    SupplierContract,
    SupplierScoreEntry,
)
from tests.progress_support import Recorder

OPTIONS = DemoOptions(offices=2, days=90, seed=5, now=datetime(2026, 3, 10, 4, tzinfo=UTC))


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (SupplierContract, Nonconformity, SupplierScoreEntry, AuditEntry)
    )


def test_the_demo_suppliers_and_a_second_run(session: Session) -> None:
    group = session.scalars(select(Group)).one()
    import_org_rows(session, org_rows(2, 5), group=group, actor="test")
    recorder = Recorder()
    suppliers_step(session, replace(OPTIONS, progress=recorder), random.Random(5))
    assert recorder.keys == ["ops.progress.demo.suppliers"]
    first = counts(session)
    contracts, nonconformities, scores, _ = first
    assert contracts == 8  # two offices, four disciplines
    assert nonconformities > 0 and scores > 0
    # every nonconformity is within its contract and no later than the demo's now
    latest = session.scalar(select(func.max(Nonconformity.opened_at)))
    assert latest is not None and latest <= OPTIONS.now
    charged = session.scalar(select(func.count()).where(Nonconformity.breach_points.is_not(None)))
    assert charged and charged < nonconformities  # notices carry no points
    suppliers_step(session, OPTIONS, random.Random(5))
    assert counts(session) == first  # nothing added, nothing audited again
