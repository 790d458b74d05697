"""Maintenance commands: ``propcloud import work-orders`` and ``propcloud orders generate``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.i18n import t
from operational.imports.work_orders import import_work_orders_file
from operational.services.plans import generate_orders, get_plan
from operational.settings import load_settings
from propcloud.console import CLI, encoding_option, fail, progress_shown, run_import


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the maintenance commands to ``propcloud`` and ``propcloud import``."""

    @import_group.command("work-orders")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_work_orders(file: Path, encoding: str | None) -> None:
        """Import the go-live history of work orders (CSV or XLSX), with their events.

        Columns: order_no, office_code, discipline, kind (periodic|corrective), created_at, and
        optional assigned_at, completed_at, verified_at, object_code. Times without an offset
        are the office's local time. All rows or none; importing the same file twice changes
        nothing. See docs/import-formats.md.
        """
        with progress_shown() as progress:
            run_import(
                file,
                lambda s, f: import_work_orders_file(
                    s, f, actor=CLI, progress=progress, encoding=encoding
                ),
            )

    @main.group()
    def orders() -> None:
        """Periodic and corrective work orders."""

    @orders.command("generate")
    @click.option(
        "--horizon-days", default=14, show_default=True, help="Issue orders up to today + N days."
    )
    @click.option("--plan", "plan_no", default=None, help="Only this plan (e.g. PP-SH001-000012).")
    def orders_generate(horizon_days: int, plan_no: str | None) -> None:
        """Issue the periodic orders of approved plans up to the horizon (never twice)."""
        settings = load_settings()
        horizon = datetime.now(UTC).date() + timedelta(days=horizon_days)
        try:
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                plan = get_plan(session, CLI, plan_no) if plan_no else None
                issued = generate_orders(session, plan, horizon)
        except DomainError as error:
            fail(error, settings)
        click.echo(t("sla.cli.generated", settings.language, count=len(issued), horizon=horizon))
