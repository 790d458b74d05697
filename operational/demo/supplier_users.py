"""Demo step: supplier users (供方用户) and the orders dispatched to them.

Every cleaning and security contract of the demo (``operational.demo.suppliers``) gets a supplier
user of its supplier at its office — ``<office>.sup.cl`` / ``<office>.sup.se``; the first office's
cleaning one logs in as ``supplier`` — and a corrective order of its discipline raised by the
office's supervisor and dispatched to that user through the engine, waiting for the supplier
user's work (their to-do list); and one handling nonconformity (不合格处理单) against the
contract, still open.
Appended last to the demo's steps, with its own random draws, so the other steps stay as they
were; a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import load_principal, system_principal
from operational.imports.suppliers import import_nonconformity_rows
from operational.models import (
    Discipline,
    Office,
    Role,
    RoleGrant,
    ScopeLevel,
    Supplier,
    SupplierContract,
    User,
)
from operational.progress import stage
from operational.services import orders
from operational.services.users import GrantSpec, add_user

if TYPE_CHECKING:
    from operational.demo import DemoOptions

DEMO = system_principal("demo")
FIRST_LOGIN = "supplier"
"""The demo login of the first office's cleaning supplier user (README, "Demo logins")."""
WORK: dict[str, tuple[str, str, tuple[str, str]]] = {
    Discipline.CLEANING: ("cl", "clean", ("大堂地面污渍", "电梯轿厢异味")),
    Discipline.SECURITY: ("se", "sec", ("道闸抬杆故障", "门禁卡失灵")),
}
"""Discipline → (username suffix, the office supervisor's staff key, two order titles)."""
NAMES = ("周师傅", "吴师傅", "郑师傅", "冯师傅", "陈师傅", "褚师傅", "卫师傅", "蒋师傅")


def supplier_users_step(session: Session, options: DemoOptions, _rng: random.Random) -> None:
    rng = random.Random(options.seed * 7919 + 21)  # its own draws: other steps stay as they were
    with stage(options.progress, "supplierusers.progress.demo"):
        _load(session, options, rng)


def _first_office(session: Session) -> int | None:
    """The office of the demo's ``manager`` login, whose supplier user logs in as ``supplier``."""
    return session.scalar(
        select(RoleGrant.office_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(User.username == "manager")
    )


def _load(session: Session, options: DemoOptions, rng: random.Random) -> None:
    from operational.demo import DEMO_PASSWORD

    existing = set(session.scalars(select(User.username)))
    open_ncs: list[dict[str, str]] = []
    first = _first_office(session)
    rows = session.execute(
        select(SupplierContract, Supplier, Office)
        .join(Supplier, Supplier.id == SupplierContract.supplier_id)
        .join(Office, Office.id == SupplierContract.office_id)
        .where(SupplierContract.discipline.in_([str(d) for d in WORK]))
        .order_by(Office.code, SupplierContract.discipline)
    )
    for contract, supplier, office in rows:
        suffix, supervisor, titles = WORK[contract.discipline]
        username = (
            FIRST_LOGIN
            if office.id == first and contract.discipline == Discipline.CLEANING
            else f"{office.code.lower()}.sup.{suffix}"
        )
        responsible = session.scalar(
            select(User).where(User.username == f"{office.code.lower()}.{supervisor}")
        )
        if username in existing or responsible is None:
            continue
        add_user(
            session,
            DEMO,
            username=username,
            display_name=rng.choice(NAMES),
            password=DEMO_PASSWORD,
            grants=[GrantSpec(Role.SUPPLIER_USER, ScopeLevel.OFFICE, office.code)],
            supplier_code=supplier.supplier_code,
        )
        boss = load_principal(session, responsible.id)
        # raised within the last two hours: on time still, so the demo's compliance and late
        # lists read as they did before supplier users
        raised = options.now - timedelta(minutes=rng.randint(40, 110))
        order = orders.raise_corrective(
            session,
            boss,
            office_code=office.code,
            spec=orders.CorrectiveSpec(
                responsible=responsible.username,
                title=rng.choice(titles),
                discipline=Discipline(contract.discipline),
            ),
            at=raised,
        )
        assigned = raised + timedelta(minutes=rng.randint(5, 30))
        orders.assign(session, boss, order, username, order.version, at=assigned)
        opened = (options.now - timedelta(hours=rng.randint(2, 48))).astimezone(
            ZoneInfo(office.timezone)
        )
        open_ncs.append(
            {
                "nc_no": f"NC-{contract.contract_no[3:]}-OPEN",
                "office_code": office.code,
                "kind": "handling",
                "discipline": contract.discipline,
                "opened_at": f"{opened:%Y-%m-%d %H:%M}",
                "closed_at": "",
                "contract_no": contract.contract_no,
                "breach_points": "1",
            }
        )
    if open_ncs:
        rows_ = [(n, v) for n, v in enumerate(open_ncs, start=2)]
        import_nonconformity_rows(session, rows_, actor=DEMO, now=options.now)
    session.flush()
