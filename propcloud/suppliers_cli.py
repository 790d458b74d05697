"""Supplier imports: ``propcloud import suppliers | contracts | deduction-standards |
nonconformities | supplier-scores FILE`` (docs/import-formats.md)."""

from __future__ import annotations

from pathlib import Path

import click

from operational.imports.suppliers import import_file
from propcloud.console import CLI, encoding_option, progress_shown, run_import

_HELP = {
    "suppliers": """Import suppliers (供应商) (CSV or XLSX).

        Columns: supplier_code, name, discipline (engineering, landscaping, security, cleaning).
        A supplier already stored under its code is updated. All rows or none. See
        docs/import-formats.md.""",
    "contracts": """Import supplier contracts (供方合同) (CSV or XLSX).

        Columns: contract_no, supplier_code, office_code, discipline, starts_on, ends_on
        (YYYY-MM-DD, both included), amount (yuan). A contract already stored under its number
        gets the file's period and amount; its supplier, office and discipline do not change.
        All rows or none. See docs/import-formats.md.""",
    "deduction-standards": """Import contracts' deduction standards (供方扣款标准) (CSV or XLSX).

        Columns: contract_no, points (a whole number above 0), amount (yuan). A step already
        stored for the contract and points gets the file's amount. All rows or none. See
        docs/import-formats.md.""",
    "nonconformities": """Import the go-live history of nonconformities (不合格) (CSV or XLSX).

        Columns: nc_no, office_code, kind (notice, handling, corrective_preventive), discipline,
        opened_at, and closed_at, contract_no, breach_points (empty: none). Times without an
        offset are the office's local time. The contract must be the office's, of the same
        discipline, and the points a step of its deduction standard. A nonconformity already
        stored under its number is updated. All rows or none. See docs/import-formats.md.""",
    "supplier-scores": """Import the offices' manual supplier scores (绩效评分) (CSV or XLSX).

        Columns: contract_no, month (YYYY-MM), item (e.g. 缺编 staffing shortfall), points
        (signed). An entry already stored for the contract, month and item gets the file's
        points. All rows or none. See docs/import-formats.md.""",
}


def _command(import_group: click.Group, kind: str) -> None:
    @import_group.command(kind, help=_HELP[kind])
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def run(file: Path, encoding: str | None) -> None:
        with progress_shown() as progress:
            run_import(
                file,
                lambda s, f: import_file(
                    s, kind, f, actor=CLI, encoding=encoding, progress=progress
                ),
            )


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the five supplier imports to ``propcloud import``."""
    for kind in _HELP:
        _command(import_group, kind)
