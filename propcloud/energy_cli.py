"""Energy commands (imports, label sheets); filled in by the energy capability."""

from __future__ import annotations

import click


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach the energy commands to ``propcloud`` and ``propcloud import``."""
