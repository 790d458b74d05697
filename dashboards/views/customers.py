"""Customers (客户查询): find a caller from one field, open their record, keep base data.

For ``VIEW_PROPERTY`` (the call centre, customer service, the office manager, head office and
internal audit, at their offices). One search field finds a customer by phone number, house
(``building-unit-room``) or name among the offices in scope (or the office chosen; ``?office=``
preselects one of them). The results, and their Excel export, show phone numbers as the reader
may see them: masked unless they hold ``VIEW_CUSTOMER_PII`` at the customer's office
(docs/property.md). Opening a customer shows the customer view — details, houses with every past
and present occupant, who lives with them, vehicles and pets, and every ticket of their houses
(each linking to its ticket page, for users who see tickets there) — and is audited. The office's fee
standards answer "how much is …". Users who maintain the office's data (``MANAGE_PROPERTY``) add
or change a customer and a house in forms (every problem at once, what was typed kept).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards import forms
from dashboards.export import excel_download
from dashboards.session import flash, operational_engine, require, show_flash, tr
from dashboards.text import md
from dashboards.ticket_links import ticket_link
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.services import lookup
from operational.services.property import (
    SEARCH_LIMIT,
    CustomerHit,
    CustomerRecord,
    customer_record,
    find_customers,
    office_fee_standards,
    office_houses,
    office_parking,
    save_customer,
    save_house,
)
from operational.services.ticket_desk import customer_tickets

OFFICE, QUERY, PICK = "cust_office", "cust_query", "cust_pick"
OPENED = "cust_opened"
CUSTOMER_FORM, HOUSE_FORM = "cust_form", "house_form"
CUSTOMER_KEYS = ("cust_f_code", "cust_f_name", "cust_f_phone", "cust_f_id")
HOUSE_KEYS = (
    "house_f_building",
    "house_f_unit",
    "house_f_floor",
    "house_f_room",
    "house_f_area",
)
HOUSE_SALE, HOUSE_RENTAL = "house_f_sale", "house_f_rental"


def _hits_table(hits: list[CustomerHit]) -> pl.DataFrame:
    columns = ("office", "code", "name", "phone", "houses")
    return pl.DataFrame(
        [
            [h.office_code for h in hits],
            [h.code for h in hits],
            [h.name for h in hits],
            [h.phone for h in hits],
            [", ".join(h.houses) for h in hits],
        ],
        schema={tr(f"property.page.col_{c}"): pl.String for c in columns},
        orient="col",
    )


def _open(user: Principal, office_code: str, code: str) -> CustomerRecord | None:
    """The customer's record, read (and audited) once per opening, not on every rerun."""
    kept = st.session_state.get(OPENED)
    if isinstance(kept, CustomerRecord) and (kept.office_code, kept.code) == (office_code, code):
        return kept
    try:
        with unit_of_work(operational_engine()) as db:
            record = customer_record(db, user, office_code, code)
    except DomainError:
        st.session_state[OPENED] = None
        return None
    st.session_state[OPENED] = record
    if user.can(Permission.MANAGE_PROPERTY, office_code) and not record.masked:
        state = st.session_state
        values = (record.code, record.name, record.phone, record.id_number)
        for key, value in zip(CUSTOMER_KEYS, values, strict=True):
            state[key] = value
    return record


def _record(record: CustomerRecord) -> None:
    st.subheader(tr("property.page.details", name=md(record.name), code=md(record.code)))
    st.caption(md(f"{record.office_code} {record.office_name}"))
    st.markdown(tr("property.page.phone", phone=md(record.phone or "—")))
    st.markdown(tr("property.page.id_number", id_number=md(record.id_number or "—")))
    if record.masked:
        st.caption(tr("property.page.masked"))
    st.markdown(f"**{tr('property.page.houses')}**")
    if not record.houses:
        st.caption(tr("property.page.none"))
    for house in record.houses:
        st.markdown(
            tr(
                "property.page.house",
                house=md(house.name),
                area=house.area,
                floor=house.floor,
                sale=tr(f"property.sale.{house.sale_status}"),
                rental=tr(f"property.rental.{house.rental_status}"),
            )
        )
        st.caption(tr("property.page.occupants"))
        st.dataframe(
            pl.DataFrame(
                [
                    [o.customer_code for o in house.occupants],
                    [o.customer_name for o in house.occupants],
                    [tr(f"property.role.{o.role}") for o in house.occupants],
                    [o.moved_in_on.isoformat() for o in house.occupants],
                    [o.moved_out_on.isoformat() if o.moved_out_on else "" for o in house.occupants],
                ],
                schema={
                    tr(f"property.page.col_{c}"): pl.String
                    for c in ("code", "name", "role", "from", "to")
                },
                orient="col",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
        )
        if house.decorations:
            st.caption(tr("property.page.decorations"))
            st.dataframe(
                pl.DataFrame(
                    [
                        [d[0].isoformat() for d in house.decorations],
                        [d[1].isoformat() if d[1] else "" for d in house.decorations],
                        [d[2] for d in house.decorations],
                        [d[3] for d in house.decorations],
                    ],
                    schema={
                        tr(f"property.page.col_{c}"): pl.String
                        for c in ("from", "to", "contractor", "work")
                    },
                    orient="col",
                ),
                hide_index=True,
                placeholder=tr("finish.table.missing"),
            )
    st.markdown(f"**{tr('property.page.family')}**")
    if record.family:
        st.dataframe(
            pl.DataFrame(
                [
                    [f.customer_code for f in record.family],
                    [f.customer_name for f in record.family],
                    [tr(f"property.role.{f.role}") for f in record.family],
                ],
                schema={tr(f"property.page.col_{c}"): pl.String for c in ("code", "name", "role")},
                orient="col",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
        )
    else:
        st.caption(tr("property.page.none"))
    st.markdown(f"**{tr('property.page.vehicles')}**")
    if record.vehicles:
        st.dataframe(
            pl.DataFrame(
                [list(v) for v in zip(*record.vehicles, strict=True)],
                schema={tr(f"property.page.col_{c}"): pl.String for c in ("plate", "licence")},
                orient="col",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
        )
    else:
        st.caption(tr("property.page.none"))
    st.markdown(f"**{tr('property.page.pets')}**")
    if record.pets:
        st.dataframe(
            pl.DataFrame(
                [list(p) for p in zip(*record.pets, strict=True)],
                schema={
                    tr(f"property.page.col_{c}"): pl.String for c in ("kind", "pet_name", "note")
                },
                orient="col",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
        )
    else:
        st.caption(tr("property.page.none"))


def _furnishings(record: CustomerRecord) -> None:
    st.markdown(f"**{tr('property.page.furnishings')}**")
    if not record.furnishings:
        st.caption(tr("property.page.none"))
        return
    st.dataframe(
        pl.DataFrame(
            [list(f) for f in zip(*record.furnishings, strict=True)],
            schema={tr(f"property.page.col_{c}"): pl.String for c in ("item", "brand", "note")},
            orient="col",
        ),
        hide_index=True,
        placeholder=tr("finish.table.missing"),
    )


def _fees(user: Principal, office_code: str) -> None:
    with unit_of_work(operational_engine()) as db:
        fees = office_fee_standards(db, user, office_code)
    with st.expander(tr("property.page.fees")):
        if not fees:
            st.caption(tr("property.page.none"))
            return
        st.dataframe(
            pl.DataFrame(
                [
                    [f.name for f in fees],
                    [f"{f.unit_price.normalize():f}" for f in fees],
                    [tr(f"property.basis.{f.basis}") for f in fees],
                ],
                schema={tr(f"property.page.col_{c}"): pl.String for c in ("fee", "price", "basis")},
                orient="col",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
        )


def _base_data(user: Principal, office_code: str) -> None:
    """The office's houses and parking spaces (no personal information), with Excel exports."""
    with unit_of_work(operational_engine()) as db:
        houses = office_houses(db, user, office_code)
        spaces = office_parking(db, user, office_code)
    with st.expander(tr("property.page.house_list", count=len(houses))):
        table = pl.DataFrame(
            [
                [h.name for h in houses],
                [h.floor for h in houses],
                [float(h.area) for h in houses],
                [tr(f"property.sale.{h.sale_status}") for h in houses],
                [tr(f"property.rental.{h.rental_status}") for h in houses],
            ],
            schema={
                tr("property.page.col_house"): pl.String,
                tr("property.field.floor"): pl.Int64,
                tr("property.field.area"): pl.Float64,
                tr("property.field.sale_status"): pl.String,
                tr("property.field.rental_status"): pl.String,
            },
            orient="col",
        )
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, f"houses-{office_code}", key="house_export")
    with st.expander(tr("property.page.parking_list", count=len(spaces))):
        table = pl.DataFrame(
            [
                [p.space_no for p in spaces],
                [p.location for p in spaces],
                [float(p.area) for p in spaces],
                [tr(f"property.sale.{p.sale_status}") for p in spaces],
                [tr(f"property.rental.{p.rental_status}") for p in spaces],
                [tr("property.page.yes") if p.stacked else "" for p in spaces],
            ],
            schema={
                tr("property.page.col_space"): pl.String,
                tr("property.page.col_location"): pl.String,
                tr("property.field.area"): pl.Float64,
                tr("property.field.sale_status"): pl.String,
                tr("property.field.rental_status"): pl.String,
                tr("property.page.col_stacked"): pl.String,
            },
            orient="col",
        )
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, f"parking-{office_code}", key="parking_export")


def _tickets(user: Principal, record: CustomerRecord) -> None:
    """Every ticket of the customer's houses (C9), newest first, each linking to its page."""
    if not user.can(Permission.VIEW_TICKETS, record.office_code):
        return
    with unit_of_work(operational_engine()) as db:
        lines = customer_tickets(db, user, record.office_code, record.code)
    st.markdown(f"**{tr('ticketdesk.customer.tickets')}**")
    if not lines:
        st.caption(tr("ticketdesk.customer.none"))
        return
    zone = ZoneInfo(lines[0].timezone)
    columns = ("no", "type", "state", "received", "house", "subject")
    st.dataframe(
        pl.DataFrame(
            [
                [t.document_no for t in lines],
                [tr(f"ticketdesk.type.{t.ticket_type}") for t in lines],
                [tr(f"workflow.state.{t.state}") for t in lines],
                [t.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") for t in lines],
                [t.house or "" for t in lines],
                [t.subject for t in lines],
            ],
            schema={tr(f"ticketdesk.customer.col_{c}"): pl.String for c in columns},
            orient="col",
        ),
        hide_index=True,
        placeholder=tr("finish.table.missing"),
    )
    for t in lines[:20]:
        ticket_link(
            user,
            t.document_no,
            f"{t.document_no} · {tr(f'ticketdesk.type.{t.ticket_type}')} · {t.subject}",
        )


# --- forms (widget callbacks) -------------------------------------------------------------------


def _save_customer(user: Principal, office_code: str) -> None:
    code, name, phone, id_number = (str(st.session_state.get(k) or "") for k in CUSTOMER_KEYS)
    try:
        with unit_of_work(operational_engine()) as db:
            saved = save_customer(
                db, user, office_code, code=code, name=name, phone=phone, id_number=id_number
            )
    except DomainError as refused:
        forms.refuse(CUSTOMER_FORM, refused)  # the form keeps what was typed
        return
    forms.accept(CUSTOMER_FORM)
    st.session_state[OPENED] = None  # read again (and shown as now stored)
    flash(tr("property.page.customer_saved", code=md(saved)))


def _save_house(user: Principal, office_code: str) -> None:
    state = st.session_state
    building, unit, floor, room, area = (str(state.get(k) or "") for k in HOUSE_KEYS)
    try:
        with unit_of_work(operational_engine()) as db:
            saved = save_house(
                db,
                user,
                office_code,
                building=building,
                unit=unit,
                floor=floor,
                room=room,
                area=area,
                sale_status=str(state.get(HOUSE_SALE) or ""),
                rental_status=str(state.get(HOUSE_RENTAL) or ""),
            )
    except DomainError as refused:
        forms.refuse(HOUSE_FORM, refused)
        return
    forms.accept(HOUSE_FORM)
    st.session_state[OPENED] = None
    flash(tr("property.page.house_saved", house=md(saved)))


def _customer_form(user: Principal, office_code: str) -> None:
    opened = forms.expanded(CUSTOMER_FORM)
    with (
        st.expander(tr("property.page.edit_customer"), expanded=opened),
        st.form(CUSTOMER_FORM, border=False),
    ):
        for key, field in zip(CUSTOMER_KEYS, ("code", "name", "phone", "id_number"), strict=True):
            st.text_input(tr(f"property.field.{field}"), key=key)
        forms.problems(CUSTOMER_FORM)
        st.form_submit_button(
            tr("property.page.save_customer"),
            type="primary",
            on_click=_save_customer,
            args=(user, office_code),
        )


def _house_form(user: Principal, office_code: str) -> None:
    opened = forms.expanded(HOUSE_FORM)
    with (
        st.expander(tr("property.page.edit_house"), expanded=opened),
        st.form(HOUSE_FORM, border=False),
    ):
        fields = ("building", "unit", "floor", "room", "area")
        for key, field in zip(HOUSE_KEYS, fields, strict=True):
            st.text_input(tr(f"property.field.{field}"), key=key)
        st.selectbox(
            tr("property.field.sale_status"),
            ["sold", "unsold"],
            format_func=lambda v: tr(f"property.sale.{v}"),
            key=HOUSE_SALE,
        )
        st.selectbox(
            tr("property.field.rental_status"),
            ["self_use", "rented", "vacant"],
            format_func=lambda v: tr(f"property.rental.{v}"),
            key=HOUSE_RENTAL,
        )
        forms.problems(HOUSE_FORM)
        st.form_submit_button(
            tr("property.page.save_house"),
            type="primary",
            on_click=_save_house,
            args=(user, office_code),
        )


def render() -> None:
    user = require(Permission.VIEW_PROPERTY)
    st.title(tr("property.page.title"))
    show_flash()
    with unit_of_work(operational_engine()) as db:
        offices = lookup.offices(db, user, Permission.VIEW_PROPERTY)
    if not offices:
        st.info(tr("selfservice.no_offices"))
        return
    names = {o.code: f"{o.code} {o.name}" for o in offices}
    asked = st.query_params.get("office")
    if asked in names and OFFICE not in st.session_state:
        st.session_state[OFFICE] = asked
    office_code = st.selectbox(
        tr("property.page.office"),
        list(names),
        format_func=names.__getitem__,
        index=0 if len(names) == 1 else None,
        placeholder=tr("property.page.all_offices") if len(names) > 1 else None,
        key=OFFICE,
    )
    query = st.text_input(
        tr("property.page.search"), key=QUERY, help=tr("property.page.search_help")
    )
    if query.strip():
        with unit_of_work(operational_engine()) as db:
            hits = find_customers(db, user, query, office_code=office_code)
        if not hits:
            st.info(tr("property.page.no_match", query=md(query.strip())))
        else:
            st.caption(tr("property.page.results", count=len(hits)))
            if len(hits) >= SEARCH_LIMIT:
                st.caption(tr("property.page.too_many", count=SEARCH_LIMIT))
            table = _hits_table(hits)
            st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
            excel_download(table, "customers", key="cust_export")
            choices = {f"{h.office_code}/{h.code}": h for h in hits}
            picked = st.selectbox(
                tr("property.page.open"),
                list(choices),
                format_func=lambda k: f"{choices[k].code} · {choices[k].name} · {k.split('/')[0]}",
                index=0 if len(choices) == 1 else None,
                key=PICK,
            )
            if picked:
                hit = choices[str(picked)]
                record = _open(user, hit.office_code, hit.code)
                if record is not None:
                    _record(record)
                    _furnishings(record)
                    _tickets(user, record)
    if office_code:
        _fees(user, str(office_code))
        _base_data(user, str(office_code))
        if user.can(Permission.MANAGE_PROPERTY, str(office_code)):
            _customer_form(user, str(office_code))
            _house_form(user, str(office_code))


render()
