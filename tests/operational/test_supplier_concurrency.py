"""Two supplier imports at once (docs/import-formats.md, "Two imports at once"): the second waits
for the first, then validates against what the first stored — a row report, never a lost
update or a database error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.imports import suppliers as suppliers_import
from operational.imports.suppliers import import_contract_rows, import_supplier_rows
from operational.imports.table import ImportRejected, ImportSummary, Row
from operational.models import SupplierContract
from tests.operational.test_concurrency import (
    OFFICE,
    _one_of_each,
    _pause,
    _race,
    _read,
    _unique,
    race_url,
)

pytestmark = (
    pytest.mark.slow
)  # two writers in threads, each paused for the other: `make test` runs them, `make check` does not

__all__ = ["race_url"]  # the fixture, shared with the other races

ACTOR = system_principal("test")


def contract_row(number: str, supplier: str) -> list[Row]:
    return [
        (
            2,
            {
                "contract_no": number,
                "supplier_code": supplier,
                "office_code": OFFICE,
                "discipline": "cleaning",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                "amount": "1000",
            },
        )
    ]


def test_two_contract_imports_at_once_the_loser_gets_the_row_report(
    race_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _unique("SA"), _unique("SB")
    engine = create_db_engine(race_url)
    with unit_of_work(engine) as session:
        import_supplier_rows(
            session,
            [
                (2, {"supplier_code": first, "name": "甲", "discipline": "cleaning"}),
                (3, {"supplier_code": second, "name": "乙", "discipline": "cleaning"}),
            ],
            actor=ACTOR,
        )
    engine.dispose()
    number = _unique("HT")
    _pause(monkeypatch, suppliers_import, "_contracts", after=True)
    results = _race(
        race_url,
        lambda s: import_contract_rows(s, contract_row(number, first), actor=ACTOR),
        lambda s: import_contract_rows(s, contract_row(number, second), actor=ACTOR),
    )
    summary, rejected = _one_of_each(results, (ImportSummary, ImportRejected))
    assert summary.created == 1
    assert [(e.row, e.key) for e in rejected.errors] == [(2, "import.suppliers.contract_fixed")]
    count = _read(
        race_url,
        lambda s: s.scalar(
            select(func.count())
            .select_from(SupplierContract)
            .where(SupplierContract.contract_no == number)
        ),
    )
    assert count == 1
