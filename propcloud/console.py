"""What every command shares: refusing with the user's message, running an import."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.orm import Session

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.imports.table import ImportRejected, ImportSummary
from operational.settings import Settings, load_settings

CLI = system_principal("cli")
"""Who the command line acts as: a trusted operator with every permission, audited as ``cli``."""


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
