"""Energy commands: ``propcloud import meters|readings|replacements`` and ``labels meters``."""

from __future__ import annotations

import re
from pathlib import Path

import click

from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.i18n import t
from operational.imports.energy import (
    import_meters_file,
    import_readings_file,
    import_replacements_file,
)
from operational.services.energy import meter_labels_pdf
from operational.settings import load_settings
from propcloud.console import CLI, encoding_option, fail, progress_shown, run_import


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the energy commands to ``propcloud`` and ``propcloud import``."""

    @import_group.command("meters")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_meters(file: Path, encoding: str | None) -> None:
        """Import metering points and their meters (CSV or XLSX).

        Columns: office_code, point_code, name, kind (electricity|water), installed_at,
        initial_reading, and optional parent_point_code, building, serial, multiplier
        (default 1), digits. See docs/import-formats.md.
        """
        run_import(file, lambda s, f: import_meters_file(s, f, actor=CLI, encoding=encoding))

    @import_group.command("readings")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_readings(file: Path, encoding: str | None) -> None:
        """Import meter readings (CSV or XLSX): point_code, read_at, reading [, source].

        Times without an offset are the office's local time. Importing the same file twice
        changes nothing.
        """
        with progress_shown() as progress:
            run_import(
                file,
                lambda s, f: import_readings_file(
                    s, f, actor=CLI, progress=progress, encoding=encoding
                ),
            )

    @import_group.command("replacements")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_replacements(file: Path, encoding: str | None) -> None:
        """Import meter replacements (CSV or XLSX).

        Columns: point_code, replaced_at, old_final_reading, new_initial_reading, and optional
        new_serial, new_multiplier, new_digits (default: the old meter's).
        """
        run_import(file, lambda s, f: import_replacements_file(s, f, actor=CLI, encoding=encoding))

    @main.group()
    def labels() -> None:
        """Printable QR label sheets (A4 PDF)."""

    @labels.command("meters")
    @click.option("--office", "office_code", required=True, help="Office code, e.g. SH001.")
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="PDF file to write (default: meter-labels-OFFICE.pdf).",
    )
    def labels_meters(office_code: str, out: Path | None) -> None:
        """One label per metering point; its QR code opens the reading form for that point."""
        settings = load_settings()
        target = out or Path(f"meter-labels-{office_code}.pdf")
        try:
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                pdf = meter_labels_pdf(
                    session, CLI, office_code, settings.base_url, settings.language
                )
        except DomainError as error:
            fail(error, settings)
        target.write_bytes(pdf)
        count = len(re.findall(rb"/URI \(", pdf))  # one link per label
        click.echo(t("energy.labels.written", settings.language, count=count, path=target))
