"""Object commands: ``propcloud import objects``, ``propcloud import object-types`` and
``propcloud labels objects``."""

from __future__ import annotations

import re
from pathlib import Path

import click

from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError
from operational.i18n import t
from operational.imports.object_types import import_object_types_file
from operational.imports.objects import import_objects_file
from operational.services.objects import object_labels_pdf
from operational.settings import load_settings
from propcloud.console import CLI, encoding_option, fail, run_import


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the object commands to ``propcloud import`` and ``propcloud labels``."""

    @import_group.command("objects")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_objects(file: Path, encoding: str | None) -> None:
        """Import offices' objects (CSV or XLSX) under the group's object-type tree.

        Columns: office_code, object_code, name, type_code, and optional location and one
        attr:<code> column per attribute (attr:brand, attr:rated_load, …), checked against the
        type's attributes. All rows or none; importing the same file twice changes nothing.
        See docs/import-formats.md.
        """
        run_import(file, lambda s, f: import_objects_file(s, f, actor=CLI, encoding=encoding))

    @import_group.command("object-types")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_object_types(file: Path, encoding: str | None) -> None:
        """Import the group's object-type tree and work standards (CSV or XLSX).

        Columns: type_code, name, and optional parent_type_code (a stored type or another row,
        in any order), discipline (engineering, landscaping, security or cleaning; needed for a
        top-level type), attributes (code:kind[:name[:unit]] separated by ';', a '*' after the
        code = required; kinds text, number, date) and checklist (items separated by '|').
        A stored type keeps its place; a blank cell keeps what is stored. All rows or none;
        importing the same file twice changes nothing. See docs/import-formats.md.
        """
        run_import(file, lambda s, f: import_object_types_file(s, f, actor=CLI, encoding=encoding))

    labels = main.commands.get("labels")
    if not isinstance(labels, click.Group):

        @main.group("labels")
        def labels_group() -> None:
            """Printable QR label sheets (A4 PDF)."""

        labels = labels_group

    @labels.command("objects")
    @click.option("--office", "office_code", required=True, help="Office code, e.g. SH001.")
    @click.option(
        "--type", "type_code", default=None, help="Only objects of this type and its sub-types."
    )
    @click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=None,
        help="PDF file to write (default: object-labels-OFFICE.pdf).",
    )
    def labels_objects(office_code: str, type_code: str | None, out: Path | None) -> None:
        """One label per object; its QR code opens the object card ({BASE_URL}/object?code=…)."""
        settings = load_settings()
        target = out or Path(f"object-labels-{office_code}.pdf")
        try:
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                pdf = object_labels_pdf(
                    session,
                    CLI,
                    office_code,
                    settings.base_url,
                    settings.language,
                    type_code=type_code,
                )
        except DomainError as error:
            fail(error, settings)
        target.write_bytes(pdf)
        count = len(re.findall(rb"/URI \(", pdf))  # one link per label
        click.echo(t("objects.labels.written", settings.language, count=count, path=target))
