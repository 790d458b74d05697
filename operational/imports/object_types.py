"""``propcloud import object-types``: the group's object-type tree and work standards.

Columns: ``type_code, name`` and optional ``parent_type_code, discipline, attributes,
checklist``. One row per type. A type without a parent is a discipline's root and names its
discipline; a sub-type takes its parent's (a ``discipline`` given on it must agree). A parent may
be a stored type or any row of the same file, before or after its children.

``attributes``: ``code:kind[:name[:unit]]`` separated by ``;`` (or line breaks); a ``*`` after
the code makes the attribute required, e.g. ``brand*:text:品牌; rated_load:number:额定载重:kg``.
``checklist``: the work standard's items, separated by ``|`` (or line breaks), in order.

A new type is created. For a stored type the file may rename it, add attributes (or rename one,
change its unit or whether it is required) and replace its checklist; it never moves a type,
changes its discipline or an attribute's kind, or removes an attribute. A blank ``attributes``
or ``checklist`` cell keeps what is stored. A checklist item that periodic orders already issued
refer to cannot be removed (issued orders keep the texts they copied, whatever happens to the
work standard later). Importing the same file again changes nothing. The group administrator's
page uses the same rules for its forms (:func:`import_object_type_rows` with one row).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Permission, Principal
from operational.entry import length_of
from operational.errors import DomainError, PermissionDenied, StaleVersion
from operational.imports.table import (
    CODE_PATTERN,
    ImportRejected,
    ImportSummary,
    Row,
    RowError,
    read_table,
)
from operational.models import (
    AttributeKind,
    ChecklistItem,
    Discipline,
    ObjectType,
    ObjectTypeAttribute,
)
from operational.services.objects import (
    AttributeSpec,
    AttributeView,
    TypeChange,
    TypeView,
    add_object_type,
    apply_type_change,
    checklist_items_in_use,
    objects_without_value,
    plan_checklist,
    type_tree,
)

REQUIRED = ("type_code", "name")
OPTIONAL = ("parent_type_code", "discipline", "attributes", "checklist")
COLUMNS = (*REQUIRED, *OPTIONAL)
NAME_MAX = length_of(ObjectType.name)
ATTRIBUTE_NAME_MAX = length_of(ObjectTypeAttribute.name)
UNIT_MAX = length_of(ObjectTypeAttribute.unit)
ITEM_MAX = length_of(ChecklistItem.text)
DISCIPLINES = tuple(d.value for d in Discipline)
KINDS = tuple(k.value for k in AttributeKind)

_ATTRIBUTE_SEPARATOR = re.compile(r"[;；\r\n]+")
_PART_SEPARATOR = re.compile(r"[:：]")
_ITEM_SEPARATOR = re.compile(r"[|｜\r\n]+")


# --- the text syntax of the two list cells (also the page's text areas) ----------------------


def parse_attributes(text: str) -> tuple[list[AttributeSpec], list[DomainError]]:
    """``brand*:text:品牌; rated_load:number:额定载重:kg`` → attribute specs, or the problems."""
    specs: list[AttributeSpec] = []
    problems: list[DomainError] = []
    seen: set[str] = set()
    for entry in (e.strip() for e in _ATTRIBUTE_SEPARATOR.split(text)):
        if not entry:
            continue
        parts = [p.strip() for p in _PART_SEPARATOR.split(entry)]
        if not 2 <= len(parts) <= 4 or not parts[0] or not parts[1]:
            problems.append(DomainError("object_types.bad_attribute", value=entry))
            continue
        code, kind = parts[0], parts[1].lower()
        required = code.endswith("*")
        code = code.removesuffix("*").strip()
        name = parts[2] if len(parts) > 2 and parts[2] else code
        unit = parts[3] if len(parts) > 3 and parts[3] else None
        if not CODE_PATTERN.match(code):
            problems.append(DomainError("import.bad_code", column="attributes", value=code))
            continue
        if kind not in KINDS:
            problems.append(DomainError("object_types.bad_kind", attribute=code, kind=parts[1]))
            continue
        if code.lower() in seen:
            problems.append(DomainError("object_types.duplicate_attribute", attribute=code))
            continue
        seen.add(code.lower())
        for column, value, limit in (("name", name, ATTRIBUTE_NAME_MAX), ("unit", unit, UNIT_MAX)):
            if value is not None and len(value) > limit:
                problems.append(
                    DomainError(
                        "object_types.too_long",
                        column=f"attributes ({code} {column})",
                        value=value,
                        max=limit,
                    )
                )
        specs.append(AttributeSpec(code, name, AttributeKind(kind), unit, required))
    return specs, problems


def parse_checklist(text: str) -> tuple[list[str], list[DomainError]]:
    """``曳引机运行无异响 | 轿厢平层准确`` → the items in order, or the problems."""
    items: list[str] = []
    problems: list[DomainError] = []
    for item in (i.strip() for i in _ITEM_SEPARATOR.split(text)):
        if not item:
            continue
        if len(item) > ITEM_MAX:
            problems.append(
                DomainError("object_types.too_long", column="checklist", value=item, max=ITEM_MAX)
            )
        elif item in items:
            problems.append(DomainError("object_types.duplicate_item", item=item))
        else:
            items.append(item)
    return items, problems


def attributes_text(attributes: Iterable[AttributeView | AttributeSpec], separator: str) -> str:
    """The attributes in the syntax :func:`parse_attributes` reads."""
    out = []
    for a in attributes:
        kind = a.kind.value if isinstance(a.kind, AttributeKind) else a.kind
        parts = [f"{a.code}{'*' if a.required else ''}", kind]
        if a.name != a.code or a.unit:
            parts.append(a.name)
        if a.unit:
            parts.append(a.unit)
        out.append(":".join(parts))
    return separator.join(out)


def checklist_text(items: Iterable[str], separator: str) -> str:
    return separator.join(items)


def export_rows(tree: Sequence[TypeView]) -> list[dict[str, str]]:
    """The tree as rows of this import (a file that re-imports as *unchanged*)."""
    return [
        {
            "type_code": v.code,
            "name": v.name,
            "parent_type_code": v.parent_code or "",
            "discipline": v.discipline if v.parent_code is None else "",
            "attributes": attributes_text(v.attributes, "; "),
            "checklist": checklist_text(v.checklist, " | "),
        }
        for v in tree
    ]


# --- validation ------------------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    code: str
    name: str
    parent_code: str | None
    discipline: str | None  # as given (lower case); None: blank
    attributes: list[AttributeSpec] | None  # None: blank cell (keep what is stored)
    checklist: list[str] | None  # None: blank cell (keep what is stored)
    current: ObjectType | None
    errors: list[RowError] = field(default_factory=list)

    def fail(self, key: str, **params: object) -> None:
        self.errors.append(RowError(self.row, key, dict(params)))


@dataclass
class _Tree:
    """The stored tree with the file laid over it: parents and attribute codes by type code."""

    stored: dict[str, ObjectType]
    by_id: dict[int, ObjectType]
    rows: dict[str, _Row]
    stored_attributes: dict[int, list[ObjectTypeAttribute]]

    def parent(self, code: str) -> str | None:
        row = self.rows.get(code)
        if row is not None and row.current is None:
            return row.parent_code
        stored = self.stored.get(code)
        if stored is None or stored.parent_id is None:
            return None
        return self.by_id[stored.parent_id].code

    def ancestors(self, code: str) -> list[str]:
        chain: list[str] = []
        current = self.parent(code)
        while current is not None and current not in chain and current != code:
            chain.append(current)
            current = self.parent(current)
        return chain

    def attribute_codes(self, code: str) -> set[str]:
        """The codes the type has once the file is applied (lower case)."""
        codes: set[str] = set()
        stored = self.stored.get(code)
        if stored is not None:
            codes |= {a.code.lower() for a in self.stored_attributes.get(stored.id, [])}
        row = self.rows.get(code)
        if row is not None and row.attributes is not None:
            codes |= {a.code.lower() for a in row.attributes}
        return codes

    def own_codes(self, object_type: ObjectType) -> set[str]:
        return {a.code.lower() for a in self.stored_attributes.get(object_type.id, [])}

    def stored_below(self, object_type: ObjectType) -> list[ObjectType]:
        below: list[ObjectType] = []
        todo = [object_type.id]
        while todo:
            current = todo.pop()
            for t in self.by_id.values():
                if t.parent_id == current:
                    below.append(t)
                    todo.append(t.id)
        return below


@dataclass
class _Valid:
    row: _Row
    change: TypeChange | None = None  # for a stored type; None: a new one
    changed: bool = True


def _parse(
    number: int, values: dict[str, str], stored: dict[str, ObjectType], blank_clears: bool
) -> _Row:
    code = values["type_code"].strip()
    parent = values.get("parent_type_code", "").strip() or None
    row = _Row(
        row=number,
        code=code,
        name=values["name"].strip(),
        parent_code=parent,
        discipline=values.get("discipline", "").strip().lower() or None,
        attributes=None,
        checklist=None,
        current=stored.get(code),
    )
    for column in REQUIRED:
        if not values[column].strip():
            row.fail("import.missing_value", column=column)
    if code and not CODE_PATTERN.match(code):
        row.fail("import.bad_code", column="type_code", value=code)
    if parent and not CODE_PATTERN.match(parent):
        row.fail("import.bad_code", column="parent_type_code", value=parent)
    if len(row.name) > NAME_MAX:
        row.fail("object_types.too_long", column="name", value=row.name, max=NAME_MAX)
    if row.discipline is not None and row.discipline not in DISCIPLINES:
        row.fail("object_types.bad_discipline", value=values["discipline"].strip())
    if blank_clears or values.get("attributes", "").strip():
        row.attributes, problems = parse_attributes(values.get("attributes", ""))
        row.errors.extend(RowError(number, p.key, dict(p.params)) for p in problems)
    if blank_clears or values.get("checklist", "").strip():
        row.checklist, problems = parse_checklist(values.get("checklist", ""))
        row.errors.extend(RowError(number, p.key, dict(p.params)) for p in problems)
    return row


def _check_place(row: _Row, tree: _Tree, declared: set[str]) -> None:
    """Parent and discipline: a stored type stays where it is; a new one needs a known parent,
    no cycle, and (as a root) a discipline; a sub-type's discipline is its root's."""
    if row.current is not None:
        stored_parent = tree.parent(row.code)
        if row.parent_code != stored_parent:
            if stored_parent is None:
                row.fail("object_types.root_moved", code=row.code)
            else:
                row.fail("object_types.parent_changed", code=row.code, parent=stored_parent)
        elif row.discipline not in (None, row.current.discipline):
            row.fail(
                "object_types.discipline_changed",
                code=row.code,
                discipline=row.current.discipline,
            )
        return
    if row.parent_code is None:
        if row.discipline is None:
            row.fail("objects.root_needs_discipline")
        return
    if row.parent_code not in tree.stored and row.parent_code not in declared:
        row.fail("object_types.unknown_parent", code=row.parent_code)
        return
    seen = [row.code]
    current: str | None = row.parent_code
    while current is not None:
        if current in seen:
            row.fail("object_types.parent_cycle", code=row.code, path=" → ".join([*seen, current]))
            return
        seen.append(current)
        current = tree.parent(current)


def _discipline(code: str, tree: _Tree) -> str | None:
    """The discipline of the type's root, the file applied (None: not known)."""
    chain = [code, *tree.ancestors(code)]
    root = chain[-1]
    if root in tree.stored:
        return tree.stored[root].discipline
    row = tree.rows.get(root)
    return row.discipline if row is not None and row.parent_code is None else None


def _check_attributes(session: Session, row: _Row, tree: _Tree) -> _Valid:
    """The row's attributes and checklist against the tree; for a stored type, the change."""
    listed = row.attributes
    ancestors = tree.ancestors(row.code)
    inherited = {c: a for a in reversed(ancestors) for c in tree.attribute_codes(a)}
    new_specs: list[AttributeSpec] = []
    changed_specs: list[AttributeSpec] = []
    stored_rows: dict[str, ObjectTypeAttribute] = {}
    if row.current is not None:
        stored_rows = {a.code: a for a in tree.stored_attributes.get(row.current.id, [])}
    if listed is not None:
        given = {a.code: a for a in listed}
        for code in stored_rows:
            if code not in given:
                row.fail("object_types.attribute_not_listed", attribute=code, type=row.code)
        below = tree.stored_below(row.current) if row.current is not None else []
        for spec in listed:
            stored_row = stored_rows.get(spec.code)
            if stored_row is None:
                owner = inherited.get(spec.code.lower())
                clash = next(
                    (
                        t.code
                        for t in below
                        if spec.code.lower()
                        in {a.code.lower() for a in tree.stored_attributes.get(t.id, [])}
                    ),
                    None,
                )
                if owner is not None:
                    row.fail("object_types.attribute_inherited", attribute=spec.code, type=owner)
                elif clash is not None:
                    row.fail("object_types.attribute_below", attribute=spec.code, type=clash)
                elif spec.required and row.current is not None:
                    _needs_values(session, row, spec)
                new_specs.append(spec)
                continue
            if stored_row.kind != spec.kind.value:
                row.fail("object_types.kind_changed", attribute=spec.code, kind=stored_row.kind)
                continue
            if spec.required and not stored_row.required:
                _needs_values(session, row, spec)
            if (stored_row.name, stored_row.unit, stored_row.required) != (
                spec.name,
                spec.unit,
                spec.required,
            ):
                changed_specs.append(spec)
    if row.current is None:
        return _Valid(row)
    plan = None
    if row.checklist is not None:
        items = list(
            session.scalars(
                select(ChecklistItem)
                .where(ChecklistItem.type_id == row.current.id)
                .order_by(ChecklistItem.position)
            )
        )
        in_use = checklist_items_in_use(session, row.current) if items else set()
        plan = plan_checklist(items, row.checklist, in_use)
        for item in plan.removed:
            if item.id in in_use:
                row.fail("object_types.item_in_use", item=item.text)
    change = TypeChange(row.name, tuple(new_specs), tuple(changed_specs), plan)
    changed = (
        row.name != row.current.name
        or bool(new_specs)
        or bool(changed_specs)
        or (plan is not None and plan.changes)
    )
    return _Valid(row, change, changed)


def _needs_values(session: Session, row: _Row, spec: AttributeSpec) -> None:
    assert row.current is not None
    missing = objects_without_value(session, row.current, spec.code)
    if missing:
        row.fail("object_types.required_needs_values", attribute=spec.code, count=missing)


def _validate(
    session: Session, rows: Sequence[Row], blank_clears: bool = False
) -> tuple[list[_Valid], list[RowError]]:
    stored = {t.code: t for t in session.scalars(select(ObjectType))}
    attributes: dict[int, list[ObjectTypeAttribute]] = {}
    for a in session.scalars(select(ObjectTypeAttribute).order_by(ObjectTypeAttribute.id)):
        attributes.setdefault(a.type_id, []).append(a)
    parsed = [_parse(number, values, stored, blank_clears) for number, values in rows]
    first: dict[str, int] = {}
    for row in parsed:
        if not row.code:
            continue
        if row.code in first:
            row.fail("object_types.duplicate_type", code=row.code, first_row=first[row.code])
        else:
            first[row.code] = row.row
    declared = set(first)  # a bad row still declares its code: its children are not unknown
    good = {r.code: r for r in parsed if not r.errors}
    tree = _Tree(stored, {t.id: t for t in stored.values()}, good, attributes)
    for row in good.values():
        _check_place(row, tree, declared)
    tree.rows = {code: r for code, r in good.items() if not r.errors}
    valid: list[_Valid] = []
    for row in list(tree.rows.values()):
        if row.current is None and row.parent_code is not None:
            discipline = _discipline(row.code, tree)
            if (
                row.discipline is not None
                and discipline is not None
                and row.discipline != discipline
            ):
                row.fail(
                    "object_types.discipline_mismatch", value=row.discipline, discipline=discipline
                )
                continue
        result = _check_attributes(session, row, tree)
        if not row.errors:
            valid.append(result)
    errors = [e for r in parsed for e in r.errors]
    return valid, sorted(errors, key=lambda e: e.row)


# --- writing ---------------------------------------------------------------------------------


def _content(view: TypeView) -> tuple[object, ...]:
    return (view.name, view.attributes, view.checklist)


def _actor_may(actor: Principal) -> None:
    if not actor.can(Permission.MANAGE_OBJECT_TYPES):
        raise PermissionDenied("auth.not_allowed")


def import_object_type_rows(
    session: Session,
    rows: Sequence[Row],
    *,
    actor: Principal,
    expected: TypeView | None = None,
    blank_clears: bool = False,
    create_only: bool = False,
) -> ImportSummary:
    """Validate every row, then create and change the types; nothing if any row is bad.

    ``actor`` needs ``MANAGE_OBJECT_TYPES`` (the command line is the system principal). ``expected``: the stored type as a form showed it — if its name,
    attributes or checklist have changed since, :class:`StaleVersion` and nothing is saved.
    ``blank_clears``: a blank attributes or checklist value means none (a form's text areas),
    not "keep what is stored" (a file's cells). ``create_only``: a stored type is refused (a
    form that adds types).
    """
    _actor_may(actor)
    if expected is not None:
        now = next((v for v in type_tree(session) if v.code == expected.code), None)
        if now is None or _content(now) != _content(expected):
            raise StaleVersion("object_types.stale", code=expected.code)
    if create_only:
        stored = set(session.scalars(select(ObjectType.code)))
        taken = [
            RowError(n, "objects.type_exists", {"code": v["type_code"].strip()})
            for n, v in rows
            if v["type_code"].strip() in stored
        ]
        if taken:
            raise ImportRejected(taken)
    valid, errors = _validate(session, rows, blank_clears)
    if errors:
        raise ImportRejected(errors)
    summary = ImportSummary()
    new = {v.row.code: v.row for v in valid if v.row.current is None}
    created: set[str] = set()

    def create(row: _Row) -> None:
        if row.code in created:
            return
        if row.parent_code in new:
            create(new[row.parent_code])
        add_object_type(
            session,
            actor,
            code=row.code,
            name=row.name,
            parent_code=row.parent_code,
            discipline=Discipline(row.discipline) if row.discipline else None,
            attributes=row.attributes or (),
            checklist=row.checklist or (),
        )
        session.flush()
        created.add(row.code)

    for v in valid:
        if v.row.current is None:
            create(v.row)
            summary.created += 1
        elif v.change is not None and v.changed:
            apply_type_change(session, actor, v.row.current, v.change)
            summary.updated += 1
        else:
            summary.unchanged += 1
    session.flush()
    return summary


def import_object_types_file(
    session: Session, path: Path, *, actor: Principal, encoding: str | None = None
) -> ImportSummary:
    read = read_table(path, REQUIRED, OPTIONAL, encoding=encoding)
    return import_object_type_rows(session, read.rows, actor=actor).read_as(read.encoding)
