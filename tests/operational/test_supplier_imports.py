"""The supplier imports as a group loads them (docs/import-formats.md): suppliers, contracts,
deduction standards, the nonconformity history and the offices' manual scores — all rows or none,
every bad row named by number and column, re-import updating by key, each change audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.errors import PermissionDenied
from operational.imports.suppliers import (
    import_contract_rows,
    import_file,
    import_nonconformity_rows,
    import_score_rows,
    import_standard_rows,
    import_supplier_rows,
)
from operational.imports.table import ImportRejected, Row
from operational.models import (
    AuditEntry,
    DeductionStandard,
    Nonconformity,
    Supplier,
    SupplierContract,
    SupplierScoreEntry,
)
from propcloud.cli import main
from tests.db_support import migrated
from tests.operational.test_workflow_support import World, build_world

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NC_COLUMNS = (
    "nc_no",
    "office_code",
    "kind",
    "discipline",
    "opened_at",
    "closed_at",
    "contract_no",
    "breach_points",
)


def rows(columns: tuple[str, ...], *values: tuple[str, ...]) -> list[Row]:
    return [(n, dict(zip(columns, v, strict=True))) for n, v in enumerate(values, start=2)]


def problems(caught: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [e.message("en") for e in caught.value.errors]


def load_contracts(session: Session, world: World) -> None:
    """Two suppliers; contract K1 (OF1, cleaning, 2026) with 1 → ¥50, 2 → ¥100; K2 (OF2)."""
    admin = world["admin"]
    import_supplier_rows(
        session,
        rows(
            ("supplier_code", "name", "discipline"),
            ("S1", "洁美保洁", "cleaning"),
            ("S2", "安盾保安", "security"),
        ),
        actor=admin,
    )
    import_contract_rows(
        session,
        rows(
            (
                "contract_no",
                "supplier_code",
                "office_code",
                "discipline",
                "starts_on",
                "ends_on",
                "amount",
            ),
            ("K1", "S1", "OF1", "cleaning", "2026-01-01", "2026-12-31", "120000.50"),
            ("K2", "S1", "OF2", "cleaning", "2026-01-01", "2026-12-31", "90000"),
        ),
        actor=admin,
    )
    import_standard_rows(
        session,
        rows(("contract_no", "points", "amount"), ("K1", "1", "50"), ("K1", "2", "100")),
        actor=admin,
    )


def test_the_chain_loads_and_a_second_import_updates_by_key(session: Session) -> None:
    world = build_world(session)
    admin = world["admin"]
    load_contracts(session, world)
    contract = session.scalars(
        select(SupplierContract).where(SupplierContract.contract_no == "K1")
    ).one()
    assert contract.amount == Decimal("120000.50")
    assert contract.ends_on == date(2026, 12, 31)
    nc = rows(
        NC_COLUMNS,
        ("NC-1", "OF1", "corrective_preventive", "cleaning", "2026-02-01 00:30", "", "K1", "2"),
        ("NC-2", "OF1", "notice", "cleaning", "2026-02-03T09:00:00+00:00", "", "", ""),
    )
    summary = import_nonconformity_rows(session, nc, actor=admin)
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    first = session.scalars(select(Nonconformity).where(Nonconformity.nc_no == "NC-1")).one()
    # office-local 2026-02-01 00:30 in Shanghai is 31 January 16:30 UTC
    assert first.opened_at == datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    assert (first.contract_id, first.breach_points, first.closed_at) == (contract.id, 2, None)
    second = session.scalars(select(Nonconformity).where(Nonconformity.nc_no == "NC-2")).one()
    assert second.opened_at == datetime(2026, 2, 3, 9, 0, tzinfo=UTC)  # its own offset
    # the same file again changes nothing; a changed row updates its record
    again = import_nonconformity_rows(session, nc, actor=admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    closed = rows(
        NC_COLUMNS,
        (
            "NC-1",
            "OF1",
            "corrective_preventive",
            "cleaning",
            "2026-02-01 00:30",
            "2026-02-05 10:00",
            "K1",
            "1",
        ),
    )
    updated = import_nonconformity_rows(session, closed, actor=admin)
    assert (updated.created, updated.updated, updated.unchanged) == (0, 1, 0)
    session.refresh(first)
    assert first.breach_points == 1
    assert first.closed_at == datetime(2026, 2, 5, 2, 0, tzinfo=UTC)
    scores = rows(
        ("contract_no", "month", "item", "points"),
        ("K1", "2026-02", "缺编 staffing shortfall", "-2.5"),
        ("K1", "2026-02", "培训 training", "1"),
    )
    assert import_score_rows(session, scores, actor=admin).created == 2
    fixed = rows(
        ("contract_no", "month", "item", "points"), ("K1", "2026-02-01", "培训 training", "2")
    )
    assert import_score_rows(session, fixed, actor=admin).updated == 1
    entries = {
        e.item: e.points
        for e in session.scalars(
            select(SupplierScoreEntry).where(SupplierScoreEntry.month == date(2026, 2, 1))
        )
    }
    assert entries == {"缺编 staffing shortfall": Decimal("-2.5"), "培训 training": Decimal(2)}
    standard = rows(("contract_no", "points", "amount"), ("K1", "2", "120.00"))
    assert import_standard_rows(session, standard, actor=admin).updated == 1
    steps = session.scalars(
        select(DeductionStandard.amount)
        .where(DeductionStandard.contract_id == contract.id)
        .order_by(DeductionStandard.points)
    ).all()
    assert steps == [Decimal(50), Decimal(120)]
    audited = {
        (a.entity, a.action)
        for a in session.scalars(select(AuditEntry).where(AuditEntry.actor == admin.username))
    }
    assert {
        ("supplier", "create"),
        ("supplier_contract", "create"),
        ("supplier_deduction_standard", "update"),
        ("supplier_nonconformity", "update"),
        ("supplier_score_entry", "update"),
    } <= audited


def test_every_bad_nonconformity_is_named_and_nothing_is_written(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    bad = rows(
        NC_COLUMNS,
        ("NC-1", "OF1", "corrective_preventive", "cleaning", "2026-02-01 08:00", "", "K1", "2"),
        ("NC-2", "OF2", "handling", "cleaning", "2026-02-01 08:00", "", "K1", "1"),
        ("NC-3", "OF1", "handling", "security", "2026-02-01 08:00", "", "K1", "1"),
        ("NC-4", "OF1", "handling", "cleaning", "2026-02-01 08:00", "", "K1", "3"),
        ("NC-5", "OF1", "corrective_preventive", "cleaning", "2026-02-01 08:00", "", "K1", ""),
        ("NC-6", "OF1", "notice", "cleaning", "2026-02-01 08:00", "", "", "1"),
        ("NC-7", "OF1", "audit", "cleaning", "2026-02-01", "2026-01-01 00:00", "K9", "x"),
        ("NC-1", "OF1", "notice", "cleaning", "2025-12-31 08:00", "", "K1", ""),
    )
    with pytest.raises(ImportRejected) as caught:
        import_nonconformity_rows(session, bad, actor=world["admin"])
    assert problems(caught) == [
        "Row 3: contract_no: contract K1 belongs to office OF1.",
        "Row 4: contract_no: contract K1 is a contract for cleaning.",
        "Row 5: breach_points: 3 points are not in contract K1's deduction standard"
        " (it has: 1, 2).",
        "Row 6: breach_points: a corrective_preventive nonconformity against a contract needs"
        " its breach points.",
        "Row 7: contract_no: breach points need the contract they are charged to.",
        "Row 8: kind 'audit' is not one of notice, handling, corrective_preventive.",
        "Row 8: closed_at: the nonconformity is closed before it was opened.",
        "Row 8: contract_no: no contract numbered K9.",
        "Row 8: breach_points 'x' is not a whole number of points above 0.",
        "Row 9: opened_at: opened outside contract K1's period (2026-01-01 to 2026-12-31).",
        "Row 9: NC-1 is already in row 2 of this file.",
    ]
    assert session.scalar(select(func.count()).select_from(Nonconformity)) == 0


def test_contracts_keep_supplier_office_and_discipline(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    columns = (
        "contract_no",
        "supplier_code",
        "office_code",
        "discipline",
        "starts_on",
        "ends_on",
        "amount",
    )
    moved = rows(
        columns,
        ("K1", "S2", "OF2", "security", "2026-01-01", "2026-12-31", "1"),
        ("K3", "S9", "OF9", "gardening", "2026-05-01", "2026-04-30", "-1"),
        ("K2", "S1", "OF2", "cleaning", "2026/2/1", "2027-01-31", "95000"),
        ("K2", "S1", "OF2", "cleaning", "2026-02-01", "2027-01-31", "95000"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_contract_rows(session, moved, actor=world["admin"])
    assert problems(caught) == [
        "Row 2: supplier_code: contract K1 belongs to S1, which an import does not change.",
        "Row 2: office_code: contract K1 belongs to OF1, which an import does not change.",
        "Row 2: discipline: contract K1 belongs to cleaning, which an import does not change.",
        "Row 3: supplier_code: no supplier with code S9.",
        "Row 3: No office with code OF9.",
        "Row 3: discipline 'gardening' is not one of engineering, landscaping, security, cleaning.",
        "Row 3: ends_on: the contract ends before it starts.",
        "Row 3: amount '-1' is negative.",
        "Row 5: K2 is already in row 4 of this file.",
    ]
    summary = import_contract_rows(session, moved[2:3], actor=world["admin"])
    assert (summary.created, summary.updated) == (0, 1)
    k2 = session.scalars(select(SupplierContract).where(SupplierContract.contract_no == "K2"))
    assert k2.one().starts_on == date(2026, 2, 1)


def test_a_contracts_period_keeps_its_nonconformities_and_scores(session: Session) -> None:
    world = build_world(session)
    admin = world["admin"]
    load_contracts(session, world)
    import_nonconformity_rows(
        session,
        rows(
            NC_COLUMNS, ("NC-1", "OF1", "handling", "cleaning", "2026-03-01 00:30", "", "K1", "1")
        ),
        actor=admin,
    )
    import_score_rows(
        session,
        rows(("contract_no", "month", "item", "points"), ("K1", "2026-06", "other", "-1")),
        actor=admin,
    )
    columns = (
        "contract_no",
        "supplier_code",
        "office_code",
        "discipline",
        "starts_on",
        "ends_on",
        "amount",
    )
    period = rows(
        columns,
        ("K1", "S1", "OF1", "cleaning", "2026-03-02", "2026-12-31", "1"),
        ("K1", "S1", "OF1", "cleaning", "2026-03-01", "2026-05-31", "1"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_contract_rows(session, period, actor=admin)
    # the period must start by 1 March (the nonconformity, office-local) and end in June or later
    assert problems(caught) == [
        "Row 2: starts_on: contract K1 has nonconformities or scores between 2026-03-01 and"
        " 2026-06-01; its period must keep them.",
        "Row 3: K1 is already in row 2 of this file.",
        "Row 3: ends_on: contract K1 has nonconformities or scores between 2026-03-01 and"
        " 2026-06-01; its period must keep them.",
    ]
    # 1 March to 1 June still holds both
    kept = rows(columns, ("K1", "S1", "OF1", "cleaning", "2026-03-01", "2026-06-01", "1"))
    assert import_contract_rows(session, kept, actor=admin).updated == 1


def test_scores_need_a_month_the_contract_is_active(session: Session) -> None:
    world = build_world(session)
    load_contracts(session, world)
    bad = rows(
        ("contract_no", "month", "item", "points"),
        ("K1", "2025-12", "other", "1"),
        ("K1", "2026-13", "other", "1"),
        ("K1", "2026-03", "other", "many"),
        ("K1", "2026-03", "tools", "1.005"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_score_rows(session, bad, actor=world["admin"])
    assert problems(caught) == [
        "Row 2: month: contract K1 is not active in that month (2026-01-01 to 2026-12-31).",
        "Row 3: month '2026-13' is not a month (e.g. 2026-03).",
        "Row 4: points 'many' is not a number.",
        "Row 5: points '1.005' has too many decimals: at most 2.",
    ]


def test_only_a_group_wide_administrator_imports_supplier_data(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(PermissionDenied):
        import_supplier_rows(
            session,
            rows(("supplier_code", "name", "discipline"), ("S1", "x", "cleaning")),
            actor=world["mgr"],
        )
    assert session.scalar(select(func.count()).select_from(Supplier)) == 0


def test_an_xlsx_file_with_date_and_number_cells(session: Session, tmp_path: Path) -> None:
    world = build_world(session)
    load_contracts(session, world)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(NC_COLUMNS)
    sheet.append(["NC-9", "OF1", "handling", "cleaning", datetime(2026, 4, 1, 9, 0), None, "K1", 1])
    path = tmp_path / "nonconformities.xlsx"
    book.save(path)
    summary = import_file(session, "nonconformities", path, actor=world["admin"])
    assert summary.created == 1
    nc = session.scalars(select(Nonconformity)).one()
    assert (nc.opened_at, nc.breach_points) == (datetime(2026, 4, 1, 1, 0, tzinfo=UTC), 1)


def test_the_import_commands_load_the_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
    monkeypatch.setenv("PROPCLOUD_LANG", "en")
    runner = CliRunner()
    migrated(url)  # as `propcloud db upgrade` (tests/test_cli.py runs the command), cheaply
    org = tmp_path / "org.csv"
    org.write_text(
        "city_code,city_name,office_code,office_name\nSZ,深圳,SZ001,一号\nSZ,深圳,SZ002,二号\n",
        encoding="utf-8",
    )
    assert runner.invoke(main, ["import", "org", str(org)]).exit_code == 0
    # the scores refer to contracts not loaded yet: refused by row
    result = runner.invoke(
        main, ["import", "supplier-scores", str(EXAMPLES / "supplier-scores.csv")]
    )
    assert result.exit_code == 1
    assert "Row 2: contract_no: no contract numbered HT-2026-001." in result.output
    expected = {
        "suppliers": 3,
        "contracts": 3,
        "deduction-standards": 7,
        "nonconformities": 4,
        "supplier-scores": 3,
    }
    for kind, count in expected.items():
        result = runner.invoke(main, ["import", kind, str(EXAMPLES / f"{kind}.csv")])
        assert result.exit_code == 0, result.output
        assert f"{count} created" in result.output
    again = runner.invoke(
        main, ["import", "nonconformities", str(EXAMPLES / "nonconformities.csv")]
    )
    assert "4 unchanged" in again.output


def test_a_standard_step_costs_at_most_ten_billion(session: Session) -> None:
    """The warehouse sums deductions in DECIMAL(18,2): a step is held to ¥9 999 999 999.99."""
    world = build_world(session)
    load_contracts(session, world)
    bad = rows(
        ("contract_no", "points", "amount"),
        ("K1", "3", "10000000000"),
        ("K1", "0", "1"),
        ("K1", "2147483648", "1"),
    )
    with pytest.raises(ImportRejected) as caught:
        import_standard_rows(session, bad, actor=world["admin"])
    assert problems(caught) == [
        "Row 2: amount '10000000000' is too large: at most 10 digits before the decimal point.",
        "Row 3: points '0' is not a whole number of points above 0.",
        "Row 4: points '2147483648' must be a whole number from 1 to 2147483647.",
    ]


def test_rows_handed_over_by_a_page_are_held_to_the_column_lengths(session: Session) -> None:
    world = build_world(session)
    with pytest.raises(ImportRejected) as caught:
        import_supplier_rows(
            session,
            rows(("supplier_code", "name", "discipline"), ("S1", "名" * 201, "cleaning")),
            actor=world["admin"],
        )
    assert [(e.row, e.key, e.params["max"]) for e in caught.value.errors] == [
        (2, "entry.text.too_long", 200)
    ]
