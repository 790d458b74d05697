"""Every import a page can run: one small table (docs/import-formats.md, docs/dashboards.md).

Each :class:`ImportSpec` names a ``propcloud import …`` file format: its catalogue title, the
permission a user needs to run it (the import checks each row's office again, as the user),
the function that runs it as the logged-in principal, and its columns in the documented order
with one example row — the page's Excel template. The imports page lists the ones the user may
run; the objects and meters pages offer theirs from here too (``dashboards.import_panel``).

Every documented import is here (a test compares the columns with docs/import-formats.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy.orm import Session

from operational.auth import Permission, Principal
from operational.imports import (
    calendars,
    energy,
    object_types,
    objects,
    org,
    tickets,
    work_orders,
)
from operational.imports import property as property_imports
from operational.imports.table import ImportSummary
from operational.progress import Progress, stage
from operational.settings import load_settings

Runner = Callable[[Session, Path, Principal, str | None, Progress], ImportSummary]
"""Runs an import file as ``principal`` (session, file, principal, encoding, progress)."""

EXAMPLE_OFFICE = "{office}"
"""Stands for the user's first office in an example row."""


@dataclass(frozen=True)
class ImportSpec:
    name: str
    """The command's name: ``propcloud import <name>``."""
    title_key: str
    permission: Permission
    columns: tuple[str, ...]
    """Every column, in the order docs/import-formats.md lists them (objects: without the
    ``attr:<code>`` columns, which come from the type tree)."""
    required: tuple[str, ...]
    example: tuple[str, ...]
    """One example row, a value per column ("" for none)."""
    run: Runner
    lengths: Mapping[str, Any] | None = None
    attributes: bool = False
    """One ``attr:<code>`` column per attribute of the type tree follows the columns."""

    def all_columns(self, session: Session) -> list[str]:
        """The file's columns as the template has them (with the tree's attributes)."""
        extra = list(objects.attribute_columns(session)) if self.attributes else []
        return [*self.columns, *extra]

    def optional(self, session: Session) -> list[str]:
        return [c for c in self.all_columns(session) if c not in self.required]

    def example_row(self, office_code: str | None) -> list[str]:
        return [v.replace(EXAMPLE_OFFICE, office_code or "SH001") for v in self.example]


def _quietly(
    run: Callable[[Session, Path, Principal, str | None], ImportSummary],
) -> Runner:
    """An import that reports no progress of its own: one stage while it runs."""

    def runner(
        session: Session, path: Path, user: Principal, encoding: str | None, progress: Progress
    ) -> ImportSummary:
        with stage(progress, "selfservice.imports.running", None, file=path.name):
            return run(session, path, user, encoding)

    return runner


def _readings(
    session: Session, path: Path, user: Principal, encoding: str | None, progress: Progress
) -> ImportSummary:
    # the performance path: column-wise reading, bulk validation, batched inserts
    return energy.import_readings_file(
        session, path, actor=user, progress=progress, encoding=encoding
    )


def _org(session: Session, path: Path, user: Principal, encoding: str | None) -> ImportSummary:
    settings = load_settings()
    group = org.ensure_group(session, settings.group_code, settings.group_name)
    return org.import_org_file(session, path, group=group, actor=user, encoding=encoding)


def _work_orders(
    session: Session, path: Path, user: Principal, encoding: str | None, progress: Progress
) -> ImportSummary:
    return work_orders.import_work_orders_file(
        session, path, actor=user, progress=progress, encoding=encoding
    )


IMPORTS: tuple[ImportSpec, ...] = (
    ImportSpec(
        "objects",
        "selfservice.imports.kind.objects",
        Permission.MANAGE_OBJECTS,
        ("office_code", "object_code", "name", "type_code", "location"),
        objects.REQUIRED,
        (EXAMPLE_OFFICE, "EL-1", "1号电梯", "elevator", "1号楼"),
        _quietly(lambda s, p, u, e: objects.import_objects_file(s, p, actor=u, encoding=e)),
        objects.LENGTHS,
        attributes=True,
    ),
    ImportSpec(
        "meters",
        "selfservice.imports.kind.meters",
        Permission.MANAGE_METERS,
        (
            "office_code",
            "point_code",
            "name",
            "kind",
            "parent_point_code",
            "building",
            "serial",
            "multiplier",
            "digits",
            "installed_at",
            "initial_reading",
        ),
        energy.METER_REQUIRED,
        (
            EXAMPLE_OFFICE,
            f"{EXAMPLE_OFFICE}-E-B9",
            "9号楼总电表",
            "electricity",
            "",
            "9号楼",
            "A-0001",
            "1",
            "6",
            "2026-03-01 08:30",
            "0",
        ),
        _quietly(lambda s, p, u, e: energy.import_meters_file(s, p, actor=u, encoding=e)),
        energy.METER_LENGTHS,
    ),
    ImportSpec(
        "readings",
        "selfservice.imports.kind.readings",
        Permission.ENTER_READINGS,
        ("point_code", "read_at", "reading", "source"),
        energy.READING_REQUIRED,
        (f"{EXAMPLE_OFFICE}-E-B9", "2026-03-02 08:30", "123.4", "import"),
        _readings,
    ),
    ImportSpec(
        "replacements",
        "selfservice.imports.kind.replacements",
        Permission.MANAGE_METERS,
        (
            "point_code",
            "replaced_at",
            "old_final_reading",
            "new_initial_reading",
            "new_serial",
            "new_multiplier",
            "new_digits",
        ),
        energy.REPLACEMENT_REQUIRED,
        (f"{EXAMPLE_OFFICE}-E-B9", "2026-03-10 09:00", "456.7", "0", "A-0002", "", ""),
        _quietly(lambda s, p, u, e: energy.import_replacements_file(s, p, actor=u, encoding=e)),
        energy.REPLACEMENT_LENGTHS,
    ),
    ImportSpec(
        "object-types",
        "selfservice.imports.kind.object_types",
        Permission.MANAGE_OBJECT_TYPES,
        object_types.COLUMNS,
        object_types.REQUIRED,
        (
            "escalator",
            "自动扶梯",
            "engineering",
            "",
            "brand*:text:品牌; step_width:number:梯级宽度:mm",
            "梯级无破损 | 扶手带运行同步",
        ),
        _quietly(
            lambda s, p, u, e: object_types.import_object_types_file(s, p, actor=u, encoding=e)
        ),
    ),
    ImportSpec(
        "working-hours",
        "selfservice.imports.kind.working_hours",
        Permission.MANAGE_CALENDARS,
        calendars.WORKING_HOURS_COLUMNS,
        calendars.WORKING_HOURS_COLUMNS,
        (EXAMPLE_OFFICE, "1", "09:00", "12:00"),
        _quietly(lambda s, p, u, e: calendars.import_working_hours_file(s, p, actor=u, encoding=e)),
    ),
    ImportSpec(
        "calendar-days",
        "selfservice.imports.kind.calendar_days",
        Permission.MANAGE_CALENDARS,
        calendars.CALENDAR_DAYS_COLUMNS,
        calendars.CALENDAR_DAYS_REQUIRED,
        (EXAMPLE_OFFICE, "2027-01-01", "holiday", "", ""),
        _quietly(lambda s, p, u, e: calendars.import_calendar_days_file(s, p, actor=u, encoding=e)),
    ),
    ImportSpec(
        "work-orders",
        "selfservice.imports.kind.work_orders",
        Permission.MANAGE_ORDERS,
        (*work_orders.REQUIRED, *work_orders.OPTIONAL),
        work_orders.REQUIRED,
        (
            "OLD-2025-0001",
            EXAMPLE_OFFICE,
            "engineering",
            "corrective",
            "2025-03-01 08:30",
            "2025-03-01 09:00",
            "2025-03-01 15:00",
            "2025-03-02 10:00",
            "EL-1",
        ),
        _work_orders,
    ),
    ImportSpec(
        "org",
        "selfservice.imports.kind.org",
        Permission.MANAGE_USERS,
        (*org.REQUIRED, *org.OPTIONAL),
        org.REQUIRED,
        ("XX", "示例城市公司", "XX001", "示例管理处", "Asia/Shanghai"),
        _quietly(_org),
        org.LENGTHS,
    ),
)


IMPORTS = (
    *IMPORTS,
    ImportSpec(
        "tickets",
        "selfservice.imports.kind.tickets",
        Permission.RECORD_TICKETS,
        (  # as docs/import-formats.md lists them
            "ticket_no",
            "office_code",
            "type",
            "received_at",
            "severity",
            "urgency",
            "appointment_at",
            "dispatched_at",
            "picked_up_at",
            "on_site_at",
            "resolved_at",
            "follow_up_at",
            "follow_up_result",
        ),
        tickets.REQUIRED,
        (
            "TS-2025-0001",
            EXAMPLE_OFFICE,
            "complaint",
            "2025-03-02 09:00",
            "general",
            "",
            "",
            "2025-03-02 09:01",
            "2025-03-02 09:03",
            "",
            "2025-03-04 11:00",
            "2025-03-04 15:00",
            "satisfied",
        ),
        _quietly(lambda s, p, u, e: tickets.import_tickets_file(s, p, actor=u, encoding=e)),
    ),
)


def _property(name: str) -> Runner:
    return _quietly(
        lambda s, p, u, e: property_imports.import_property_file(s, name, p, actor=u, encoding=e)
    )


_PROPERTY_EXAMPLES: dict[str, tuple[str, ...]] = {
    "houses": (EXAMPLE_OFFICE, "3", "2", "12", "1201", "89.50", "sold", "self_use"),
    "customers": (EXAMPLE_OFFICE, "C0001", "张伟", "13812345678", "110101199001011234"),
    "occupancies": (EXAMPLE_OFFICE, "3", "2", "1201", "C0001", "owner", "2020-05-01", ""),
    "parking": (EXAMPLE_OFFICE, "B1-023", "地下一层 B 区", "13.20", "sold", "self_use", "no"),
    "fee-standards": (EXAMPLE_OFFICE, "MGMT", "物业管理费", "2.35", "per_m2_month"),
    "vehicles": (EXAMPLE_OFFICE, "C0001", "沪A12345", "310000123456"),
    "pets": (EXAMPLE_OFFICE, "C0001", "犬", "豆豆", "犬证 2024-0012"),
    "furnishings": (EXAMPLE_OFFICE, "C0001", "空调", "格力", "开发商赠送，保修至 2026-05"),
    "decorations": (
        EXAMPLE_OFFICE,
        "3",
        "2",
        "1201",
        "2020-06-01",
        "2020-08-15",
        "某某装饰公司",
        "全屋装修，更换厨卫",
    ),
}

IMPORTS = IMPORTS + tuple(
    ImportSpec(
        name,
        f"selfservice.imports.kind.{name.replace('-', '_')}",
        Permission.MANAGE_PROPERTY,
        layout.columns,
        layout.required,
        _PROPERTY_EXAMPLES[name],
        _property(name),
        layout.lengths or None,
    )
    for name, (layout, _) in property_imports.IMPORTS.items()
)


def spec(name: str) -> ImportSpec:
    return next(s for s in IMPORTS if s.name == name)


def runnable(user: Principal, names: Sequence[str] | None = None) -> list[ImportSpec]:
    """The imports ``user`` may run (holds the permission at some office), in registry order;
    of ``names`` only, if given."""
    return [s for s in IMPORTS if user.can(s.permission) and (names is None or s.name in names)]


def template_bytes(columns: Sequence[str], example: Sequence[str], sheet: str) -> bytes:
    """An .xlsx template: the header row and one example row, every cell text (so that a code
    such as ``3-1`` typed into it stays text rather than becoming a date)."""
    buffer = BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "num_format": "@"})
    sheet_ = book.add_worksheet(sheet[:31])
    for index, name in enumerate(columns):
        sheet_.set_column(index, index, max(12, len(name) + 2), text)
        sheet_.write_string(0, index, name, bold)
        value = example[index] if index < len(example) else ""
        if value:
            sheet_.write_string(1, index, value, text)
    book.close()
    return buffer.getvalue()
