"""Object management (对象管理): the type tree, offices' objects, labels, object cards.

The group defines the type tree (``add_object_type``); offices add objects one by one
(``add_object``) or by import (``operational.imports.objects``). An object records the attributes
of its type and of the type's ancestors, each checked against its kind (text, number, ISO date);
a required attribute must have a value. ``object_labels_pdf`` prints QR labels that open the
object card (``/object?code=…&office=…``); ``object_card`` reads everything the card shows.
Who may read a card: anyone holding ``VIEW_OBJECTS`` at the object's office. The tree's
maintainers (``MANAGE_OBJECT_TYPES``) read it with ``type_tree`` and change a stored type with
``apply_type_change``, validated by ``operational.imports.object_types``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational import audit, entry
from operational.auth import Permission, Principal
from operational.db import WriteLock, serialise
from operational.errors import (
    DomainError,
    FormRejected,
    NotFound,
    PermissionDenied,
    StaleVersion,
    Term,
)
from operational.models import (
    AttributeKind,
    ChecklistAnswer,
    ChecklistItem,
    CorrectiveOrder,
    Discipline,
    MaintObject,
    ObjectType,
    ObjectTypeAttribute,
    Office,
    PeriodicOrder,
    PeriodicPlan,
    WorkflowClock,
)
from operational.scope import office_code_clause, scoped_office, scoped_read
from operational.services.orders import office_by_code

HISTORY_LIMIT = 20
CLOSED = "closed"

OBJECTS = WriteLock("objects", 2)
"""The writers of offices' objects (:func:`operational.db.serialise`): adding an object locks
its office, the objects import all of them — so a race ends in the usual message or row error."""

# --- the type tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSpec:
    code: str
    name: str
    kind: AttributeKind = AttributeKind.TEXT
    unit: str | None = None
    required: bool = False


def add_object_type(
    session: Session,
    actor: Principal,
    *,
    code: str,
    name: str,
    parent_code: str | None = None,
    discipline: Discipline | None = None,
    attributes: Sequence[AttributeSpec] = (),
    checklist: Sequence[str] = (),
) -> ObjectType:
    """Add a type to the group's tree. A root names its discipline; a child takes its parent's."""
    if not actor.can(Permission.MANAGE_OBJECT_TYPES):
        raise PermissionDenied("auth.not_allowed")
    if session.scalars(select(ObjectType.id).where(ObjectType.code == code)).first() is not None:
        raise DomainError("objects.type_exists", code=code)
    parent = None
    if parent_code is not None:
        parent = type_by_code(session, parent_code)
    elif discipline is None:
        raise DomainError("objects.root_needs_discipline")
    root_discipline = parent.discipline if parent else Discipline(str(discipline)).value
    object_type = ObjectType(
        code=code,
        name=name.strip(),
        parent_id=parent.id if parent else None,
        discipline=root_discipline,
    )
    session.add(object_type)
    session.flush()
    for a in attributes:
        session.add(
            ObjectTypeAttribute(
                type_id=object_type.id,
                code=a.code,
                name=a.name,
                kind=a.kind.value,
                unit=a.unit,
                required=a.required,
            )
        )
    for position, text in enumerate(checklist, start=1):
        session.add(ChecklistItem(type_id=object_type.id, position=position, text=text.strip()))
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="maint_object_type",
        entity_key=code,
        after={
            "name": object_type.name,
            "parent": parent_code,
            "attributes": [a.code for a in attributes],
            "checklist": list(checklist),
        },
    )
    return object_type


def type_by_code(session: Session, code: str) -> ObjectType:
    found = session.scalars(select(ObjectType).where(ObjectType.code == code)).one_or_none()
    if found is None:
        raise NotFound("objects.unknown_type", code=code)
    return found


def lineage(session: Session, object_type: ObjectType) -> list[ObjectType]:
    """The type and its ancestors, the type first."""
    chain = [object_type]
    while chain[-1].parent_id is not None:
        chain.append(session.get_one(ObjectType, chain[-1].parent_id))
    return chain


def subtree_ids(session: Session, object_type: ObjectType) -> set[int]:
    """The ids of the type and of every type below it."""
    children: dict[int, list[int]] = {}
    for type_id, parent_id in session.execute(select(ObjectType.id, ObjectType.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(type_id)
    found, todo = set(), [object_type.id]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def type_attributes(session: Session, object_type: ObjectType) -> dict[str, ObjectTypeAttribute]:
    """The attributes an object of ``object_type`` records: its own and its ancestors', by code."""
    ids = [t.id for t in lineage(session, object_type)]
    rows = session.scalars(
        select(ObjectTypeAttribute)
        .where(ObjectTypeAttribute.type_id.in_(ids))
        .order_by(ObjectTypeAttribute.id)
    )
    return {a.code: a for a in rows}


def all_attribute_codes(session: Session) -> list[str]:
    """Every attribute code of the tree (the ``attr:<code>`` columns an import may carry)."""
    return sorted(set(session.scalars(select(ObjectTypeAttribute.code))))


def valid_value(kind: AttributeKind, value: str) -> bool:
    if kind is AttributeKind.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return False
        return entry.number_refusal(number) is None  # finite, at most 15 digits
    if kind is AttributeKind.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return True


def attribute_problems(
    known: Mapping[str, ObjectTypeAttribute], values: Mapping[str, str], type_code: str
) -> list[DomainError]:
    """What is wrong with ``values`` (blank values already dropped) for a type's attributes."""
    problems: list[DomainError] = []
    for key, value in values.items():
        spec = known.get(key)
        if spec is None:
            problems.append(DomainError("objects.unknown_attribute", attribute=key, type=type_code))
        elif not valid_value(AttributeKind(spec.kind), value):
            problems.append(
                DomainError(
                    "objects.bad_attribute", attribute=spec.name, value=value, kind=spec.kind
                )
            )
    for spec in known.values():
        if spec.required and spec.code not in values:
            problems.append(
                DomainError("objects.required_attribute", attribute=spec.name, code=spec.code)
            )
    return problems


def clean_attributes(attributes: Mapping[str, str] | None) -> dict[str, str]:
    return {k.strip(): v.strip() for k, v in (attributes or {}).items() if v and v.strip()}


# --- objects ---------------------------------------------------------------------------------


def add_object(
    session: Session,
    actor: Principal,
    *,
    office_code: str,
    type_code: str,
    code: str,
    name: str,
    location: str = "",
    attributes: Mapping[str, str] | None = None,
) -> MaintObject:
    """Add an object to an office. Its attributes are those of its type and the type's ancestors."""
    office = office_by_code(session, office_code)
    if not actor.can(Permission.MANAGE_OBJECTS, office.code):
        raise PermissionDenied("auth.not_allowed")
    object_type = type_by_code(session, type_code)
    serialise(session, OBJECTS, [office.id])  # before looking for the code
    exists_already = session.scalars(
        select(MaintObject.id).where(MaintObject.office_id == office.id, MaintObject.code == code)
    ).first()
    if exists_already is not None:
        raise DomainError("objects.object_exists", code=code, office=office.code)
    values = clean_attributes(attributes)
    problems = attribute_problems(type_attributes(session, object_type), values, type_code)
    if problems:
        raise problems[0]
    obj = MaintObject(
        office_id=office.id,
        type_id=object_type.id,
        code=code,
        name=name.strip(),
        location=location.strip(),
        attributes=values,
    )
    session.add(obj)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="maint_object",
        entity_key=f"{office.code}:{code}",
        office_id=office.id,
        after={"type": type_code, "name": obj.name, "location": obj.location, **values},
    )
    return obj


def update_object(
    session: Session,
    actor: str,
    obj: MaintObject,
    *,
    office_code: str,
    name: str,
    location: str,
    attributes: Mapping[str, str],
) -> None:
    """Change an object's name, location and attributes (already validated), with an audit."""
    before: dict[str, Any] = {
        "name": obj.name,
        "location": obj.location,
        "attributes": dict(obj.attributes),
    }
    obj.name, obj.location, obj.attributes = name, location, dict(attributes)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="maint_object",
        entity_key=f"{office_code}:{obj.code}",
        office_id=obj.office_id,
        before=before,
        after={"name": name, "location": location, "attributes": dict(attributes)},
    )


# --- labels (P2) -----------------------------------------------------------------------------


def object_url(base_url: str, office_code: str, code: str) -> str:
    """The address a label's QR code opens: the object card of that office's object."""
    return f"{base_url.rstrip('/')}/object?{urlencode({'code': code, 'office': office_code})}"


def object_labels_pdf(
    session: Session,
    principal: Principal,
    office_code: str,
    base_url: str,
    language: str,
    *,
    type_code: str | None = None,
    codes: Collection[str] | None = None,
) -> bytes:
    """The office's A4 QR label sheet, one label per object (of ``type_code`` and its
    sub-types; of ``codes`` only, if given — the objects chosen on the objects page), for a
    principal who may see the office's object cards (else NotFound)."""
    from operational.i18n import t
    from operational.labels import Label, label_sheet_pdf

    office = scoped_office(session, principal, Permission.VIEW_OBJECTS, office_code)
    query = (
        select(MaintObject, ObjectType.name)
        .join(ObjectType, ObjectType.id == MaintObject.type_id)
        .where(MaintObject.office_id == office.id)
        .order_by(MaintObject.code)
    )
    if type_code is not None:
        query = query.where(
            MaintObject.type_id.in_(subtree_ids(session, type_by_code(session, type_code)))
        )
    if codes is not None:
        query = query.where(MaintObject.code.in_(sorted({c.strip() for c in codes})))
    rows = session.execute(query).all()
    if not rows:
        raise DomainError("objects.labels.no_objects", office=office.code)
    labels = [
        Label(
            code=obj.code,
            title=obj.name,
            subtitle=" / ".join(x for x in (type_name, obj.location) if x),
            url=object_url(base_url, office.code, obj.code),
        )
        for obj, type_name in rows
    ]
    return label_sheet_pdf(
        labels,
        heading=t("objects.labels.title", language, office=f"{office.code} {office.name}"),
        hint=t("objects.labels.scan_hint", language),
    )


# --- the object card -------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectRef:
    office_code: str
    office_name: str
    code: str
    name: str
    location: str


@dataclass(frozen=True)
class AttributeLine:
    name: str
    value: str
    unit: str | None


@dataclass(frozen=True)
class OrderLine:
    document_no: str
    document_type: str  # periodic_order | corrective_order
    title: str
    state: str
    created_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class GuidanceLine:
    type_name: str
    text: str
    guidance: str | None


@dataclass(frozen=True)
class ObjectCard:
    office_code: str
    office_name: str
    timezone: str
    code: str
    name: str
    location: str
    type_code: str
    type_path: tuple[str, ...]  # root first, the object's own type last
    discipline: str
    attributes: tuple[AttributeLine, ...]
    pending: tuple[OrderLine, ...]
    history: tuple[OrderLine, ...]  # the latest HISTORY_LIMIT closed orders, newest first
    history_total: int
    guidance: tuple[GuidanceLine, ...]


@scoped_read(Permission.VIEW_OBJECTS)
def find_objects(
    session: Session, principal: Principal, code: str, office_code: str | None = None
) -> list[ObjectRef]:
    """The objects with ``code`` in the offices whose object cards ``principal`` may see (of
    ``office_code`` only, if given), by office."""
    query = (
        select(Office.code, Office.name, MaintObject.code, MaintObject.name, MaintObject.location)
        .join(Office, Office.id == MaintObject.office_id)
        .where(
            MaintObject.code == code.strip(),
            office_code_clause(principal, Permission.VIEW_OBJECTS, Office.code),
        )
        .order_by(Office.code)
    )
    if office_code:
        query = query.where(Office.code == office_code.strip())
    return [ObjectRef(*row) for row in session.execute(query)]


def _object_in(session: Session, office: Office, code: str) -> MaintObject:
    obj = session.scalars(
        select(MaintObject).where(MaintObject.office_id == office.id, MaintObject.code == code)
    ).one_or_none()
    if obj is None:
        raise NotFound("orders.unknown_object", code=code, office=office.code)
    return obj


def _due(session: Session, document_type: str, ids: Collection[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = session.execute(
        select(WorkflowClock.document_id, func.min(WorkflowClock.due_at))
        .where(
            WorkflowClock.document_type == document_type,
            WorkflowClock.document_id.in_(sorted(ids)),
            WorkflowClock.stopped_at.is_(None),
        )
        .group_by(WorkflowClock.document_id)
    ).all()
    return dict(rows)


def _orders(session: Session, obj: MaintObject) -> tuple[list[OrderLine], list[OrderLine], int]:
    """The object's open orders (oldest first), its latest closed ones and how many closed."""
    periodic_ids = select(ChecklistAnswer.order_id).where(ChecklistAnswer.object_id == obj.id)
    periodic = session.execute(
        select(PeriodicOrder, PeriodicPlan.name)
        .join(PeriodicPlan, PeriodicPlan.id == PeriodicOrder.plan_id)
        .where(PeriodicOrder.id.in_(periodic_ids))
    ).all()
    corrective = session.scalars(
        select(CorrectiveOrder).where(CorrectiveOrder.object_id == obj.id)
    ).all()
    open_periodic = {o.id for o, _ in periodic if o.state != CLOSED}
    open_corrective = {o.id for o in corrective if o.state != CLOSED}
    due_p = _due(session, "periodic_order", open_periodic)
    due_c = _due(session, "corrective_order", open_corrective)
    lines = [
        OrderLine(o.document_no, "periodic_order", name, o.state, o.created_at, due_p.get(o.id))
        for o, name in periodic
    ] + [
        OrderLine(
            o.document_no, "corrective_order", o.title, o.state, o.created_at, due_c.get(o.id)
        )
        for o in corrective
    ]
    pending = sorted((x for x in lines if x.state != CLOSED), key=lambda x: x.created_at)
    closed = sorted(
        (x for x in lines if x.state == CLOSED), key=lambda x: x.created_at, reverse=True
    )
    return pending, closed[:HISTORY_LIMIT], len(closed)


@scoped_read(Permission.VIEW_OBJECTS)
def object_card(session: Session, actor: Principal, office_code: str, code: str) -> ObjectCard:
    """Everything the object card shows, for an ``actor`` who holds ``VIEW_OBJECTS`` at the
    office; another office's object is NotFound, as a missing one is."""
    office = scoped_office(session, actor, Permission.VIEW_OBJECTS, office_code)
    obj = _object_in(session, office, code)
    object_type = session.get_one(ObjectType, obj.type_id)
    chain = lineage(session, object_type)
    known = type_attributes(session, object_type)
    attributes = [
        AttributeLine(spec.name, obj.attributes[spec.code], spec.unit)
        for spec in known.values()
        if obj.attributes.get(spec.code)
    ]
    # Values of attributes the tree no longer defines stay visible under their code.
    attributes += [
        AttributeLine(key, str(value), None)
        for key, value in sorted(obj.attributes.items())
        if key not in known and value
    ]
    names = {t.id: t.name for t in chain}
    items = session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.type_id.in_(list(names)))
        .order_by(ChecklistItem.type_id, ChecklistItem.position)
    ).all()
    order = {t.id: i for i, t in enumerate(reversed(chain))}  # ancestors' items first
    guidance = [
        GuidanceLine(names[i.type_id], i.text, i.guidance)
        for i in sorted(items, key=lambda i: (order[i.type_id], i.position))
    ]
    pending, history, total = _orders(session, obj)
    return ObjectCard(
        office_code=office.code,
        office_name=office.name,
        timezone=office.timezone,
        code=obj.code,
        name=obj.name,
        location=obj.location,
        type_code=object_type.code,
        type_path=tuple(t.name for t in reversed(chain)),
        discipline=object_type.discipline,
        attributes=tuple(attributes),
        pending=tuple(pending),
        history=tuple(history),
        history_total=total,
        guidance=tuple(guidance),
    )


@dataclass(frozen=True)
class TypeChoice:
    code: str
    label: str  # the path from the root, e.g. 工程设备 / 电梯
    discipline: str


def type_choices(session: Session) -> list[TypeChoice]:
    """Every type of the tree with its path, in tree order (for select boxes)."""
    types = {t.id: t for t in session.scalars(select(ObjectType).order_by(ObjectType.code))}

    def path(t: ObjectType) -> list[str]:
        if t.parent_id is None or t.parent_id not in types:
            return [t.name]
        return [*path(types[t.parent_id]), t.name]

    choices = [TypeChoice(t.code, " / ".join(path(t)), t.discipline) for t in types.values()]
    return sorted(choices, key=lambda c: c.label)


# --- the type tree for its maintainers: listing and changes ----------------------------------
# The group administrator's page and ``propcloud import object-types`` read the tree through
# ``type_tree`` and change a type through ``apply_type_change`` (validated beforehand by
# ``operational.imports.object_types``, which both use).


@dataclass(frozen=True)
class AttributeView:
    code: str
    name: str
    kind: str  # AttributeKind value
    unit: str | None
    required: bool


@dataclass(frozen=True)
class TypeView:
    """One type as its maintainers see it; equal views mean nothing changed in between."""

    code: str
    name: str
    discipline: str
    parent_code: str | None
    depth: int  # 0 for a discipline's root
    path: tuple[str, ...]  # names from the root to this type
    attributes: tuple[AttributeView, ...]  # its own, in the order they were defined
    inherited: tuple[AttributeView, ...]  # its ancestors', the root's first
    checklist: tuple[str, ...]  # its work standard, in order
    objects: int  # objects of exactly this type, in every office


DISCIPLINE_ORDER = {d.value: i for i, d in enumerate(Discipline)}


def type_tree(session: Session) -> list[TypeView]:
    """Every type of the tree, depth first: roots in discipline order, children in the order
    they were added."""
    types = list(session.scalars(select(ObjectType).order_by(ObjectType.id)))
    by_id = {t.id: t for t in types}
    own: dict[int, list[AttributeView]] = {}
    for a in session.scalars(select(ObjectTypeAttribute).order_by(ObjectTypeAttribute.id)):
        own.setdefault(a.type_id, []).append(
            AttributeView(a.code, a.name, a.kind, a.unit, a.required)
        )
    items: dict[int, list[str]] = {}
    for item in session.scalars(select(ChecklistItem).order_by(ChecklistItem.position)):
        items.setdefault(item.type_id, []).append(item.text)
    counts: dict[int, int] = dict(
        session.execute(
            select(MaintObject.type_id, func.count()).group_by(MaintObject.type_id)
        ).all()
    )
    children: dict[int | None, list[ObjectType]] = {}
    for t in types:
        parent = t.parent_id if t.parent_id in by_id else None
        children.setdefault(parent, []).append(t)
    roots = sorted(
        children.get(None, []), key=lambda t: (DISCIPLINE_ORDER.get(t.discipline, 99), t.id)
    )
    out: list[TypeView] = []

    def visit(t: ObjectType, path: tuple[str, ...], inherited: tuple[AttributeView, ...]) -> None:
        attributes = tuple(own.get(t.id, ()))
        out.append(
            TypeView(
                code=t.code,
                name=t.name,
                discipline=t.discipline,
                parent_code=by_id[t.parent_id].code if t.parent_id in by_id else None,
                depth=len(path),
                path=(*path, t.name),
                attributes=attributes,
                inherited=inherited,
                checklist=tuple(items.get(t.id, ())),
                objects=int(counts.get(t.id, 0)),
            )
        )
        for child in children.get(t.id, []):
            visit(child, (*path, t.name), (*inherited, *attributes))

    for root in roots:
        visit(root, (), ())
    return out


def checklist_items_in_use(session: Session, object_type: ObjectType) -> set[int]:
    """The type's checklist items that issued periodic orders refer to (they cannot go away)."""
    return set(
        session.scalars(
            select(ChecklistAnswer.item_id)
            .join(ChecklistItem, ChecklistItem.id == ChecklistAnswer.item_id)
            .where(ChecklistItem.type_id == object_type.id)
            .distinct()
        )
    )


def objects_without_value(session: Session, object_type: ObjectType, attribute_code: str) -> int:
    """How many objects of the type or its sub-types have no value for the attribute."""
    ids = subtree_ids(session, object_type)
    values = session.scalars(select(MaintObject.attributes).where(MaintObject.type_id.in_(ids)))
    return sum(1 for v in values if not str((v or {}).get(attribute_code) or "").strip())


@dataclass(frozen=True)
class ChecklistPlan:
    """How a type's checklist becomes a new list of texts: ``slots`` gives, in the new order,
    the stored item that takes each text (None: a new item); ``removed`` go away."""

    slots: tuple[tuple[ChecklistItem | None, str], ...]
    removed: tuple[ChecklistItem, ...]

    @property
    def changes(self) -> bool:
        return bool(self.removed) or any(
            item is None or item.text != text or item.position != position
            for position, (item, text) in enumerate(self.slots, start=1)
        )


def plan_checklist(
    current: Sequence[ChecklistItem], texts: Sequence[str], in_use: Collection[int]
) -> ChecklistPlan:
    """Match the new texts to the stored items: an unchanged text keeps its item (wherever it
    moves); the remaining stored items, those issued orders refer to first, take the remaining
    new texts in order (a reworded item); stored items left over are removed, new texts left
    over become new items. Orders already issued keep the texts they copied either way."""
    free = list(current)
    slots: list[tuple[ChecklistItem | None, str]] = []
    for text in texts:
        same = next((i for i in free if i.text == text), None)
        if same is not None:
            free.remove(same)
        slots.append((same, text))
    free.sort(key=lambda i: (i.id not in in_use, i.position))
    for index, (item, text) in enumerate(slots):
        if item is None and free:
            slots[index] = (free.pop(0), text)
    return ChecklistPlan(tuple(slots), tuple(free))


@dataclass(frozen=True)
class TypeChange:
    """A validated change of one stored type (``operational.imports.object_types``)."""

    name: str
    new_attributes: tuple[AttributeSpec, ...] = ()
    changed_attributes: tuple[AttributeSpec, ...] = ()  # same code and kind; name, unit, required
    checklist: ChecklistPlan | None = None


def apply_type_change(
    session: Session, actor: Principal, object_type: ObjectType, change: TypeChange
) -> None:
    """Write a validated change of a stored type, with an audit entry. Checklist answers of
    orders already issued are not touched: they keep the texts they copied."""
    if not actor.can(Permission.MANAGE_OBJECT_TYPES):
        raise PermissionDenied("auth.not_allowed")
    before = _type_snapshot(session, object_type)
    object_type.name = change.name
    stored = {
        a.code: a
        for a in session.scalars(
            select(ObjectTypeAttribute).where(ObjectTypeAttribute.type_id == object_type.id)
        )
    }
    for spec in change.changed_attributes:
        row = stored[spec.code]
        row.name, row.unit, row.required = spec.name, spec.unit, spec.required
    for spec in change.new_attributes:
        session.add(
            ObjectTypeAttribute(
                type_id=object_type.id,
                code=spec.code,
                name=spec.name,
                kind=spec.kind.value,
                unit=spec.unit,
                required=spec.required,
            )
        )
    plan = change.checklist
    if plan is not None and plan.changes:
        for gone in plan.removed:
            session.delete(gone)
        kept = [(p, item, text) for p, (item, text) in enumerate(plan.slots, 1) if item]
        for _, item, _ in kept:  # out of the way first: (type, position) is unique
            item.position = -item.id
        session.flush()
        for position, item, text in kept:
            item.position, item.text = position, text
        session.flush()
        for position, (slot, text) in enumerate(plan.slots, start=1):
            if slot is None:
                session.add(ChecklistItem(type_id=object_type.id, position=position, text=text))
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="maint_object_type",
        entity_key=object_type.code,
        before=before,
        after=_type_snapshot(session, object_type),
    )


def _type_snapshot(session: Session, object_type: ObjectType) -> dict[str, Any]:
    attributes = session.scalars(
        select(ObjectTypeAttribute)
        .where(ObjectTypeAttribute.type_id == object_type.id)
        .order_by(ObjectTypeAttribute.id)
    )
    checklist = session.scalars(
        select(ChecklistItem.text)
        .where(ChecklistItem.type_id == object_type.id)
        .order_by(ChecklistItem.position)
    )
    return {
        "name": object_type.name,
        "attributes": [
            {"code": a.code, "name": a.name, "kind": a.kind, "unit": a.unit, "required": a.required}
            for a in attributes
        ],
        "checklist": list(checklist),
    }


# --- the objects page: an office's objects, one at a time -----------------------------------
# The forms of the objects page (docs/dashboards.md, "Objects page") follow the rules of
# ``propcloud import objects`` (docs/import-formats.md) for one object, scoped to the offices
# where the user holds ``MANAGE_OBJECTS``, and report every problem at once (``FormRejected``).

OBJECT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
"""An object's code: the objects import's ``CODE_PATTERN`` (letters, digits, ``- _ .``)."""


@dataclass(frozen=True)
class ObjectRow:
    """One object as the objects page lists and edits it."""

    office_code: str
    code: str
    name: str
    type_code: str
    type_name: str
    location: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class ObjectPage:
    total: int
    rows: tuple[ObjectRow, ...]


@dataclass(frozen=True)
class ObjectEntry:
    """What an object form holds (texts as typed)."""

    office_code: str
    code: str
    name: str
    type_code: str
    location: str = ""
    attributes: Mapping[str, str] | None = None


def _row(obj: MaintObject, office_code: str, type_code: str, type_name: str) -> ObjectRow:
    return ObjectRow(
        office_code, obj.code, obj.name, type_code, type_name, obj.location, dict(obj.attributes)
    )


@scoped_read(Permission.MANAGE_OBJECTS)
def list_objects(
    session: Session,
    principal: Principal,
    office_code: str,
    *,
    type_code: str | None = None,
    text: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> ObjectPage:
    """The office's objects by code (of ``type_code`` and its sub-types; whose code, name or
    location holds ``text``, any case), one page of them and how many in all, for a principal
    who manages the office's objects (another office is NotFound)."""
    office = scoped_office(session, principal, Permission.MANAGE_OBJECTS, office_code)
    where = [MaintObject.office_id == office.id]
    if type_code:
        where.append(
            MaintObject.type_id.in_(subtree_ids(session, type_by_code(session, type_code)))
        )
    words = text.strip().lower().split()
    for word in words:
        pattern = f"%{word}%"
        where.append(
            func.lower(MaintObject.code).like(pattern)
            | func.lower(MaintObject.name).like(pattern)
            | func.lower(MaintObject.location).like(pattern)
        )
    total = session.scalar(select(func.count()).select_from(MaintObject).where(*where)) or 0
    query = (
        select(MaintObject, ObjectType.code, ObjectType.name)
        .join(ObjectType, ObjectType.id == MaintObject.type_id)
        .where(*where)
        .order_by(MaintObject.code)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = tuple(_row(o, office.code, tc, tn) for o, tc, tn in session.execute(query))
    return ObjectPage(total, rows)


@scoped_read(Permission.MANAGE_OBJECTS)
def object_for_edit(
    session: Session, principal: Principal, office_code: str, code: str
) -> ObjectRow:
    """One object of an office whose objects ``principal`` manages, as its form shows it."""
    office = scoped_office(session, principal, Permission.MANAGE_OBJECTS, office_code)
    obj = _object_in(session, office, code.strip())
    object_type = session.get_one(ObjectType, obj.type_id)
    return _row(obj, office.code, object_type.code, object_type.name)


def attribute_fields(session: Session, type_code: str) -> list[AttributeView]:
    """The attributes an object of ``type_code`` records (its own and its ancestors'), in the
    order the form shows them; none for an unknown type."""
    object_type = session.scalars(
        select(ObjectType).where(ObjectType.code == type_code)
    ).one_or_none()
    if object_type is None:
        return []
    return [
        AttributeView(a.code, a.name, a.kind, a.unit, a.required)
        for a in type_attributes(session, object_type).values()
    ]


def _field(name: str) -> Term:
    return Term(f"selfservice.field.{name}")


def _entry_problems(
    session: Session, entry_: ObjectEntry, current: MaintObject | None
) -> tuple[list[DomainError], ObjectType | None, dict[str, str]]:
    """Every problem of a form's object (the objects import's rules), the type, the values."""
    problems: list[DomainError] = []
    code, name, type_code = entry_.code.strip(), entry_.name.strip(), entry_.type_code.strip()
    location = entry_.location.strip()
    for field, value in (("object_code", code), ("name", name), ("type_code", type_code)):
        if not value:
            problems.append(DomainError("selfservice.form.required", field=_field(field)))
    if code and not OBJECT_CODE_PATTERN.match(code):
        problems.append(DomainError("selfservice.form.bad_code", field=_field("object_code")))
    for field, value, column in (
        ("name", name, MaintObject.name),
        ("location", location, MaintObject.location),
    ):
        refusal = entry.text_refusal(value, column)
        if refusal is not None:
            problems.append(
                DomainError(
                    refusal[0], column=_field(field), value=entry.short(value), **refusal[1]
                )
            )
    object_type: ObjectType | None = None
    values = clean_attributes(entry_.attributes)
    if type_code:
        object_type = session.scalars(
            select(ObjectType).where(ObjectType.code == type_code)
        ).one_or_none()
        if object_type is None:
            problems.append(DomainError("objects.unknown_type", code=type_code))
        elif current is not None and current.type_id != object_type.id:
            stored = session.get_one(ObjectType, current.type_id)
            problems.append(
                DomainError(
                    "objects.import.type_changed",
                    code=current.code,
                    office=entry_.office_code,
                    type=stored.code,
                )
            )
        else:
            problems += attribute_problems(
                type_attributes(session, object_type), values, object_type.code
            )
    return problems, object_type, values


def save_object(
    session: Session,
    actor: Principal,
    entry_: ObjectEntry,
    *,
    create: bool,
    drawn: ObjectRow | None = None,
) -> str:
    """Add an object (``create``) or change a stored one's name, location and attributes, as
    the objects page's forms do; ``"created"``, ``"updated"`` or ``"unchanged"``.

    ``actor`` needs ``MANAGE_OBJECTS`` at the office (another office is NotFound, as a missing
    one is). Every problem is raised at once (:class:`FormRejected`) and nothing is written. In a
    form a blank location or attribute clears it (unlike a file's blank cell). ``drawn``: the
    object as the form showed it — if it was changed since, :class:`StaleVersion`."""
    office = scoped_office(session, actor, Permission.MANAGE_OBJECTS, entry_.office_code)
    serialise(session, OBJECTS, [office.id])  # before looking for the code
    code = entry_.code.strip()
    current = session.scalars(
        select(MaintObject).where(MaintObject.office_id == office.id, MaintObject.code == code)
    ).one_or_none()
    if not create and current is None:
        raise NotFound("orders.unknown_object", code=code, office=office.code)
    if (
        drawn is not None
        and current is not None
        and (drawn.name, drawn.location, drawn.attributes)
        != (current.name, current.location, dict(current.attributes))
    ):
        raise StaleVersion("selfservice.objects.stale", code=code)
    problems, object_type, values = _entry_problems(session, entry_, current)
    if create and current is not None:
        problems.insert(0, DomainError("objects.object_exists", code=code, office=office.code))
    if problems:
        raise FormRejected(problems)
    assert object_type is not None
    name, location = entry_.name.strip(), entry_.location.strip()
    if current is None:
        session.add(
            MaintObject(
                office_id=office.id,
                type_id=object_type.id,
                code=code,
                name=name,
                location=location,
                attributes=values,
            )
        )
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="maint_object",
            entity_key=f"{office.code}:{code}",
            after={"type": object_type.code, "name": name, "location": location, **values},
        )
        return "created"
    if (current.name, current.location, dict(current.attributes)) == (name, location, values):
        return "unchanged"
    update_object(
        session,
        actor.username,
        current,
        office_code=office.code,
        name=name,
        location=location,
        attributes=values,
    )
    session.flush()
    return "updated"
