"""Ticket commands: ``propcloud import tickets FILE`` (the go-live history,
docs/import-formats.md)."""

from __future__ import annotations

from pathlib import Path

import click

from operational.imports.tickets import import_tickets_file
from propcloud.console import CLI, encoding_option, run_import


def register(import_group: click.Group) -> None:
    """Attach the ticket commands."""

    @import_group.command("tickets")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_tickets(file: Path, encoding: str | None) -> None:
        """Import the go-live history of tickets (工单) (CSV or XLSX).

        Columns: ticket_no, office_code, type (inquiry, repair, complaint), received_at, and
        severity (complaints), urgency (repairs), appointment_at, dispatched_at, picked_up_at,
        on_site_at, resolved_at, follow_up_at, follow_up_result (satisfied, unsatisfied).
        Empty: the step did not happen. Times are office-local unless they carry an offset.
        All rows or none. See docs/import-formats.md."""
        run_import(
            file,
            lambda session, path: import_tickets_file(session, path, actor=CLI, encoding=encoding),
        )
