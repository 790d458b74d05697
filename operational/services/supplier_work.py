"""A supplier's open work (供方待办): the nonconformities still open against its contracts.

Read with the principal's scope inside the query (``operational.scope.office_clause``): an
office manager reads every open nonconformity of their offices, a supplier user (供方用户)
only its own supplier's — against its contracts or assigned to its users. The orders dispatched to a supplier user are
in the workflow's to-do list (``operational.services.orders.todo_list``), kept to the same
scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.auth import Permission, Principal
from operational.models import Nonconformity, Office, Supplier, SupplierContract
from operational.scope import office_clause, scoped_read


@dataclass(frozen=True)
class OpenNonconformity:
    """An open nonconformity (不合格, ``closed_at`` empty) as a to-do list shows it."""

    nc_no: str
    kind: str
    office_code: str
    office_name: str
    timezone: str
    discipline: str
    opened_at: datetime  # aware UTC
    contract_no: str
    """Empty: raised against the office's own work, no supplier contract."""
    supplier_code: str
    breach_points: int | None


@scoped_read(Permission.VIEW_SUPPLIERS)
def open_nonconformities(
    session: Session, principal: Principal, *, limit: int | None = 200
) -> list[OpenNonconformity]:
    """The open nonconformities ``principal`` may see (of a supplier user: its supplier's
    only), oldest first; at most ``limit`` (None: all)."""
    query = (
        select(Nonconformity, Office, SupplierContract.contract_no, Supplier.supplier_code)
        .join(Office, Office.id == Nonconformity.office_id)
        .outerjoin(SupplierContract, SupplierContract.id == Nonconformity.contract_id)
        .outerjoin(Supplier, Supplier.id == SupplierContract.supplier_id)
        .where(
            Nonconformity.closed_at.is_(None),
            office_clause(principal, Permission.VIEW_SUPPLIERS, Nonconformity.office_id),
        )
        .order_by(Nonconformity.opened_at, Nonconformity.nc_no)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        OpenNonconformity(
            nc_no=nc.nc_no,
            kind=nc.kind,
            office_code=office.code,
            office_name=office.name,
            timezone=office.timezone,
            discipline=nc.discipline,
            opened_at=nc.opened_at.astimezone(UTC),
            contract_no=contract_no or "",
            supplier_code=supplier_code or "",
            breach_points=nc.breach_points,
        )
        for nc, office, contract_no, supplier_code in session.execute(query)
    ]
