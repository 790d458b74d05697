"""What every command shares: refusing with the user's message, running an import, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.imports.table import ImportRejected, ImportSummary
from operational.progress import Progress
from operational.settings import Settings, load_settings
from propcloud.progress import TerminalProgress

CLI = system_principal("cli")
"""Who the command line acts as: a trusted operator with every permission, audited as ``cli``."""

encoding_option = click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="The CSV file's encoding, when it is neither UTF-8 nor GBK/GB18030 (e.g. big5, "
    "utf-16, cp1252). Without it UTF-8 and GBK/GB18030 are recognised, and anything else is "
    "refused. The summary says which encoding was used.",
)
"""``--encoding NAME`` of every ``propcloud import …`` command (docs/import-formats.md)."""


def fail(error: DomainError, settings: Settings) -> NoReturn:
    """Print the error (every bad row, for a rejected import) in the user's language; exit 1."""
    lines = error.report(settings.language) if isinstance(error, ImportRejected) else None
    for line in lines or [error.message(settings.language)]:
        click.echo(line, err=True)
    sys.exit(1)


def run_import(file: Path, run: Callable[[Session, Path], ImportSummary]) -> None:
    """Run one import in one transaction: all rows or none, with the summary or every bad row."""
    settings = load_settings()
    try:
        with unit_of_work(create_db_engine(settings.database_url)) as session:
            summary = run(session, file)
    except DomainError as error:
        fail(error, settings)
    click.echo(summary.message(settings.language))


@contextmanager
def progress_shown() -> Iterator[Progress]:
    """Progress of the command, drawn on standard error in the user's language; a stage the work
    left open when it failed is said to have stopped."""
    shown = TerminalProgress(load_settings().language)
    try:
        yield shown
    except BaseException:
        shown.end(failed=True)
        raise
    shown.end()
