"""Property commands: ``propcloud import houses|customers|occupancies|parking|fee-standards|
vehicles|pets|furnishings|decorations`` (docs/import-formats.md, docs/property.md)."""

from __future__ import annotations

from pathlib import Path

import click

from operational.imports.property import IMPORTS, import_property_file
from propcloud.console import CLI, encoding_option, run_import

_HELP = {
    "houses": "Import offices' houses (CSV or XLSX): office_code, building, floor, room, "
    "area_m2, sale_status (unsold, sold), rental_status (vacant, self_use, rented), and "
    "optional unit.",
    "customers": "Import offices' customers (CSV or XLSX): office_code, customer_code, name, "
    "and optional phone and id_number.",
    "occupancies": "Import who held or lived in which house (CSV or XLSX): office_code, "
    "building, room, customer_code, role (owner, tenant, family), moved_in_on, and optional "
    "unit and moved_out_on.",
    "parking": "Import offices' parking spaces (CSV or XLSX): office_code, space_no, area_m2, "
    "sale_status, rental_status, and optional location and stacked (yes/no).",
    "fee-standards": "Import offices' fee standards (CSV or XLSX): office_code, fee_code, name, "
    "unit_price, basis (per_m2_month, per_house_month, per_space_month, per_m2_once, per_use).",
    "vehicles": "Import customers' vehicles (CSV or XLSX): office_code, customer_code, plate, "
    "and optional licence_no.",
    "pets": "Import customers' pets (CSV or XLSX): office_code, customer_code, kind, name, "
    "and optional note.",
    "furnishings": "Import customers' furniture and appliances (CSV or XLSX): office_code, "
    "customer_code, item, and optional brand and note.",
    "decorations": "Import houses' decoration records (CSV or XLSX): office_code, building, "
    "room, started_on, and optional unit, finished_on, contractor and description.",
}


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the property imports to ``propcloud import``."""
    for name in IMPORTS:
        _attach(import_group, name)


def _attach(import_group: click.Group, name: str) -> None:
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def command(file: Path, encoding: str | None) -> None:
        run_import(
            file,
            lambda s, f: import_property_file(s, name, f, actor=CLI, encoding=encoding),
        )

    command.__doc__ = (
        _HELP[name] + " All rows or none; importing the same file twice changes nothing. "
        "See docs/import-formats.md."
    )
    import_group.command(name, help=command.__doc__)(command)
