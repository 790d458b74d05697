"""The fault library (故障库): add, search (any case, Chinese), inherit, demo entries.

Runs on SQLite and PostgreSQL (the ``session`` fixture), since the search is SQL on both.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from operational.auth import (
    Grant,
    Principal,
    system_principal,
)
from operational.demo import DemoOptions
from operational.demo.faults import FAULTS, faults_step
from operational.demo.orders import orders_step
from operational.errors import DomainError, NotFound, PermissionDenied
from operational.models import AuditEntry, Discipline, Fault, Role, ScopeLevel
from operational.services.faults import (
    add_fault,
    faults_for_type,
    faults_under_type,
    search_faults,
)
from operational.services.objects import add_object_type

CLI = system_principal("cli")


def person(role: Role, office: str | None = "OF1") -> Principal:
    level = ScopeLevel.GROUP if office is None else ScopeLevel.OFFICE
    offices = None if office is None else frozenset({office})
    grant = Grant(role, level, office or "", offices)
    return Principal(1, role.value, role.value, "zh_CN", (grant,))


ADMIN = person(Role.GROUP_ADMIN, None)
ENGINEER = person(Role.ENGINEERING_SUPERVISOR)
MANAGER = person(Role.OFFICE_MANAGER)


def tree(session: Session) -> None:
    add_object_type(session, CLI, code="ft_eng", name="工程设备", discipline=Discipline.ENGINEERING)
    add_object_type(session, CLI, code="ft_elev", name="电梯", parent_code="ft_eng")
    add_object_type(session, CLI, code="ft_pump", name="水泵", parent_code="ft_eng")
    add_fault(
        session,
        ADMIN,
        type_code="ft_eng",
        symptom="设备突然断电",
        cause="Breaker tripped (MCB)",
        remedy="检查配电柜后复位",
    )
    add_fault(
        session,
        ENGINEER,
        type_code="ft_elev",
        symptom="电梯困人",
        cause="门锁回路断开",
        remedy="安抚乘客，持证人员盘车放人",
    )
    add_fault(session, ENGINEER, type_code="ft_elev", symptom="平层不准", cause="平层感应器偏移")
    add_fault(session, ADMIN, type_code="ft_pump", symptom="水泵异响", remedy="检查轴承 100%_润滑")


def symptoms(entries: list[object]) -> list[str]:
    return [e.symptom for e in entries]  # type: ignore[attr-defined]


def test_search_matches_symptom_cause_and_remedy_in_any_case(session: Session) -> None:
    tree(session)
    ours = {"ft_eng", "ft_elev", "ft_pump"}

    def find(text: str) -> list[str]:
        return sorted(symptoms([e for e in search_faults(session, text) if e.type_code in ours]))

    assert find("困人") == ["电梯困人"]  # symptom, Chinese
    assert find("盘车") == ["电梯困人"]  # remedy
    assert find("感应器") == ["平层不准"]  # cause
    assert find("breaker") == ["设备突然断电"]  # any case
    assert find("mcb") == ["设备突然断电"]
    assert find("BREAKER 配电柜") == ["设备突然断电"]  # every word
    assert find("困人 配电柜") == []
    assert find("100%_") == ["水泵异响"]  # % and _ are taken literally
    assert find("0%x") == []
    assert find("") == sorted(["平层不准", "水泵异响", "设备突然断电", "电梯困人"])


def test_a_type_shows_its_own_and_its_ancestors_entries(session: Session) -> None:
    tree(session)
    assert symptoms(faults_for_type(session, "ft_elev")) == ["平层不准", "电梯困人", "设备突然断电"]
    assert symptoms(faults_for_type(session, "ft_pump")) == ["设备突然断电", "水泵异响"]
    assert symptoms(faults_for_type(session, "ft_elev", "困")) == ["电梯困人"]
    assert symptoms(faults_under_type(session, "ft_eng")) == [
        "平层不准",  # by type code (ft_elev, ft_eng, ft_pump), then symptom
        "电梯困人",
        "设备突然断电",
        "水泵异响",
    ]
    with pytest.raises(NotFound):
        faults_for_type(session, "ft_nope")


def test_adding_is_checked_and_audited(session: Session) -> None:
    tree(session)
    with pytest.raises(PermissionDenied):
        add_fault(session, MANAGER, type_code="ft_elev", symptom="门关不上", cause="光幕遮挡")
    with pytest.raises(DomainError) as twice:
        add_fault(session, ADMIN, type_code="ft_elev", symptom=" 电梯困人 ", cause="x")
    assert twice.value.key == "objects.faults.exists"
    assert twice.value.message("zh_CN") == "类型「电梯」已有故障「电梯困人」。"
    with pytest.raises(DomainError) as blank:
        add_fault(session, ADMIN, type_code="ft_elev", symptom="  ", cause="x")
    assert blank.value.key == "objects.faults.symptom_required"
    with pytest.raises(DomainError) as empty:
        add_fault(session, ADMIN, type_code="ft_elev", symptom="异味")
    assert empty.value.key == "objects.faults.cause_or_remedy_required"
    with pytest.raises(NotFound):
        add_fault(session, ADMIN, type_code="ft_nope", symptom="异味", cause="x")
    fault = add_fault(session, ENGINEER, type_code="ft_pump", symptom="出水压力不足", cause="阀门")
    assert fault.created_by == ENGINEER.username
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "maint_fault").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.after is not None
    assert entry.after["symptom"] == "出水压力不足"


def test_demo_step_adds_realistic_entries_once(session: Session) -> None:
    options = DemoOptions(offices=1, days=1, seed=1, now=datetime(2026, 1, 1, tzinfo=UTC))
    orders_step(session, options, random.Random(0))  # the demo's type tree (no offices here)
    faults_step(session, options, random.Random(0))
    count = session.scalar(select(func.count()).select_from(Fault))
    assert count is not None and count >= len(FAULTS)
    faults_step(session, options, random.Random(0))
    assert session.scalar(select(func.count()).select_from(Fault)) == count
    elevator = symptoms(faults_for_type(session, "elevator"))
    assert {"电梯困人", "平层不准", "设备突然断电停机"} <= set(elevator)
    assert "水泵异响" in symptoms(faults_for_type(session, "water_pump"))
    assert "水泵异响" not in elevator
    assert symptoms(faults_for_type(session, "elevator", "困人")) == ["电梯困人"]
