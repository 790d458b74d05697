"""The supplier marts through a real build (docs/supplier-marts.md): the example files of
docs/examples imported into the operational database, the pipeline run and published, and the
marts read back — the figures a BI tool sees, and the same as the Python rule computes from the
operational rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports.suppliers import KINDS_OF_FILE, import_file
from operational.models import (
    DeductionStandard,
    Nonconformity,
    Office,
    Supplier,
    SupplierContract,
    SupplierScoreEntry,
)
from operational.suppliers import Breach, Contract, ManualPoints, evaluate
from pipelines.run import run_pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
AS_OF = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)  # 1 March 16:30 in Shenzhen: March has begun


def load_examples(url: str) -> None:
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        for kind in KINDS_OF_FILE:
            import_file(session, kind, EXAMPLES / f"{kind}.csv", actor=system_principal("test"))
    engine.dispose()


def python_rule(url: str) -> tuple[list[Any], list[Any]]:
    """The rule of operational.suppliers on the operational rows."""
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        offices = {o.id: o for o in session.scalars(select(Office))}
        suppliers = {s.id: s.supplier_code for s in session.scalars(select(Supplier))}
        standards: dict[int, dict[int, Decimal]] = {}
        for step in session.scalars(select(DeductionStandard)):
            standards.setdefault(step.contract_id, {})[step.points] = step.amount
        stored = list(session.scalars(select(SupplierContract)))
        numbers = {c.id: c.contract_no for c in stored}
        contracts = [
            Contract(
                c.contract_no,
                suppliers[c.supplier_id],
                c.discipline,
                c.starts_on,
                c.ends_on,
                offices[c.office_id].timezone,
                offices[c.office_id].code,
                standards.get(c.id, {}),
            )
            for c in stored
        ]
        breaches = [
            Breach(numbers[n.contract_id], n.opened_at, n.breach_points)
            for n in session.scalars(select(Nonconformity))
            if n.contract_id is not None
        ]
        manual = [
            ManualPoints(numbers[e.contract_id], e.month, e.points)
            for e in session.scalars(select(SupplierScoreEntry))
        ]
    engine.dispose()
    return evaluate(contracts, breaches, manual, AS_OF)


@pytest.mark.slow  # a whole pipeline build
def test_the_published_supplier_marts(org_url: str, tmp_path: Path) -> None:
    load_examples(org_url)
    published = run_pipeline(org_url, tmp_path / "wh", AS_OF)
    with duckdb.connect(str(published), read_only=True) as con:
        scores = con.sql(
            "select contract_no, supplier_code, office_code, discipline, strftime(month, '%Y-%m'),"
            " nonconformities, breach_points, deduction_amount, manual_points, score"
            " from marts.contract_scores order by contract_no, month"
        ).fetchall()
        ranking = con.sql(
            "select period_type, period, discipline, supplier_code, supplier_name, contracts,"
            " score, nonconformities, breach_points, deduction_amount, rank"
            " from marts.supplier_ranking"
        ).fetchall()
    d = Decimal
    assert scores == [
        ("HT-2026-001", "SUP-CL01", "SZ001", "cleaning", "2026-01", 1, 2, d(100), d(-1), d(97)),
        ("HT-2026-001", "SUP-CL01", "SZ001", "cleaning", "2026-02", 0, 0, d(0), d(0), d(100)),
        ("HT-2026-001", "SUP-CL01", "SZ001", "cleaning", "2026-03", 0, 0, d(0), d(0), d(100)),
        ("HT-2026-002", "SUP-CL02", "SZ002", "cleaning", "2026-01", 0, 0, d(0), d(0), d(100)),
        # opened 1 February 00:30 in Shenzhen (31 January in UTC): February's
        ("HT-2026-002", "SUP-CL02", "SZ002", "cleaning", "2026-02", 1, 1, d(50), d("-0.5"),
         d("98.5")),
        ("HT-2026-002", "SUP-CL02", "SZ002", "cleaning", "2026-03", 0, 0, d(0), d(0), d(100)),
        # starts 15 February: scores February and March
        ("HT-2026-003", "SUP-SE01", "SZ001", "security", "2026-02", 1, 1, d(80), d(0), d(99)),
        ("HT-2026-003", "SUP-SE01", "SZ001", "security", "2026-03", 0, 0, d(0), d(0), d(100)),
    ]  # fmt: skip
    year = {(r[2], r[3]): (r[4], r[5], r[6], r[7], r[9], r[10]) for r in ranking if r[0] == "year"}
    assert year == {
        ("cleaning", "SUP-CL02"): ("净源物业清洁有限公司", 1, d("99.5"), 1, d(50), 1),
        ("cleaning", "SUP-CL01"): ("洁美保洁服务有限公司", 1, d(99), 1, d(100), 2),
        ("security", "SUP-SE01"): ("安盾保安服务有限公司", 1, d("99.5"), 1, d(80), 1),
    }
    march = {r[3]: (r[6], r[10]) for r in ranking if r[1] == "2026-03" and r[2] == "cleaning"}
    assert march == {"SUP-CL01": (d(100), 1), "SUP-CL02": (d(100), 1)}  # equal: equal rank
    # the warehouse and the Python rule agree on the operational rows themselves
    months, ranked = python_rule(org_url)
    assert sorted(
        (m.contract_no, m.supplier_code, m.office_code, m.discipline, m.month.strftime("%Y-%m"),
         m.nonconformities, m.breach_points, m.deduction_amount, m.manual_points, m.score)
        for m in months
    ) == scores  # fmt: skip
    assert sorted(
        (r.period_type, r.period, r.discipline, r.supplier_code, r.contracts, r.score,
         r.nonconformities, r.breach_points, r.deduction_amount, r.rank)
        for r in ranked
    ) == sorted(r[:4] + r[5:] for r in ranking)  # fmt: skip
