"""Meters (计量点与仪表): an office's metering points, their meters and buildings, in forms.

For ``MANAGE_METERS`` (group administrators, office managers, engineering supervisors), at the
offices where the user holds it (``lookup.offices``; ``?office=`` preselects one of them). Tabs:

- the office's points (code, name, kind, building, parent, meter installed), Excel export;
- add a point with its first meter (as a row of ``propcloud import meters``);
- change a point's name, parent and building (its code, office and kind stay);
- the meters installed at a point; install one where none is (a replacement has its own page);
- buildings with their floor area (add one, set an area);
- uploads of the meters, readings and replacements imports (``dashboards.import_panel``);
- a label sheet (PDF, QR codes opening the reading form) for the points chosen.

Every read and write goes through ``operational.services.energy`` with the user as the actor
(scoped, checked and audited there); every problem of a form at once, nothing half-written.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import streamlit as st

from dashboards.energy_data import chosen_moment, local_text, moment_inputs, reading_text
from dashboards.export import excel_download
from dashboards.import_panel import upload_panel
from dashboards.imports_registry import runnable
from dashboards.label_sheets import label_sheet
from dashboards.office_choice import office_choice
from dashboards.session import (
    error_text,
    flash,
    language,
    operational_engine,
    require,
    show_flash,
    tr,
)
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError, FormRejected, StaleVersion
from operational.models import EnergyKind
from operational.services.energy import (
    MeterEntry,
    PointEntry,
    PointStatus,
    PointSummary,
    install_meter,
    list_buildings,
    list_points,
    meter_labels_pdf,
    office_zone,
    point_meters,
    point_status,
    save_building,
    update_point,
)
from operational.services.energy import create_point as create_point_service

OFFICE = "met_office"
NEW = ("met_new_code", "met_new_name", "met_new_building")
NEW_KIND, NEW_PARENT = "met_new_kind", "met_new_parent"
METER = ("serial", "multiplier", "digits", "initial")
EDIT_PICK, EDIT_LOADED = "met_edit_pick", "met_edit_loaded"
EDIT_NAME, EDIT_PARENT, EDIT_BUILDING = "met_edit_name", "met_edit_parent", "met_edit_building"
METERS_PICK = "met_meters_pick"
BUILDING_NAME, BUILDING_AREA = "met_building_name", "met_building_area"
IMPORT_KIND = "met_import_kind"
NO_PARENT = ""


def problems_text(error: DomainError) -> str:
    """A refusal as Markdown: the heading and every problem on its own line, as text."""
    if isinstance(error, FormRejected):
        lines = [tr("selfservice.form.refused", count=len(error.problems))]
        lines += [f"- {md(message)}" for message in error.messages(language())]
        return "\n".join(lines)
    return error_text(error)


def _kind(kind: str) -> str:
    return tr(f"energy_ui.kind.{kind}")


def _meter_entry(prefix: str) -> MeterEntry:
    state = st.session_state
    serial, multiplier, digits, initial = (str(state.get(f"{prefix}_{k}") or "") for k in METER)
    return MeterEntry(chosen_moment(prefix), initial, serial, multiplier, digits)


# --- actions (widget callbacks) ---------------------------------------------------------------


def _create(user: Principal, office_code: str) -> None:
    state = st.session_state
    code, name, building = (str(state.get(k) or "") for k in NEW)
    point = PointEntry(
        office_code,
        code,
        name,
        str(state.get(NEW_KIND) or ""),
        str(state.get(NEW_PARENT) or ""),
        building,
    )
    try:
        with unit_of_work(operational_engine()) as db:
            create_point_service(db, user, point, _meter_entry("met_new"))
    except DomainError as refused:
        flash(problems_text(refused), ok=False)  # the form keeps what was typed
        return
    for key in (*NEW, *(f"met_new_{k}" for k in METER)):
        state[key] = ""
    state[NEW_PARENT] = NO_PARENT
    flash(tr("selfservice.meters.added", code=md(code.strip()), name=md(name.strip())))


def _save(user: Principal, drawn: PointStatus) -> None:
    state = st.session_state
    try:
        with unit_of_work(operational_engine()) as db:
            outcome = update_point(
                db,
                user,
                drawn.code,
                name=str(state.get(EDIT_NAME) or ""),
                parent_code=str(state.get(EDIT_PARENT) or ""),
                building=str(state.get(EDIT_BUILDING) or ""),
                drawn=drawn,
            )
    except StaleVersion as stale:
        state[EDIT_LOADED] = None
        flash(error_text(stale), ok=False)
        return
    except DomainError as refused:
        flash(problems_text(refused), ok=False)
        return
    state[EDIT_LOADED] = None
    flash(tr(f"selfservice.meters.{outcome}", code=md(drawn.code)))


def _install(user: Principal, code: str) -> None:
    try:
        with unit_of_work(operational_engine()) as db:
            install_meter(db, user, code, _meter_entry("met_install"))
    except DomainError as refused:
        flash(problems_text(refused), ok=False)
        return
    for k in METER:
        st.session_state[f"met_install_{k}"] = ""
    flash(tr("selfservice.meters.installed", code=md(code)))


def _building(user: Principal, office_code: str) -> None:
    state = st.session_state
    name = str(state.get(BUILDING_NAME) or "")
    try:
        with unit_of_work(operational_engine()) as db:
            save_building(db, user, office_code, name, str(state.get(BUILDING_AREA) or ""))
    except DomainError as refused:
        flash(problems_text(refused), ok=False)
        return
    state[BUILDING_NAME] = state[BUILDING_AREA] = ""
    flash(tr("selfservice.meters.building_saved", name=md(name.strip())))


# --- tabs -------------------------------------------------------------------------------------


def _points_table(points: list[PointSummary]) -> pl.DataFrame:
    cols = ("code", "name", "kind", "building", "parent", "meter")
    return pl.DataFrame(
        [
            (
                p.code,
                p.name,
                _kind(p.kind),
                p.building or "",
                p.parent_code or "",
                tr("selfservice.meters.yes") if p.has_meter else tr("selfservice.meters.no"),
            )
            for p in points
        ],
        schema={tr(f"selfservice.meters.col_{c}"): pl.String for c in cols},
        orient="row",
    )


def points_tab(points: list[PointSummary], office_code: str) -> None:
    if not points:
        st.info(tr("selfservice.meters.empty"))
        return
    table = _points_table(points)
    st.caption(tr("selfservice.meters.count", count=len(points)))
    st.dataframe(table, hide_index=True, width="stretch", placeholder=tr("finish.table.missing"))
    excel_download(table, f"points-{office_code}", key="met_export")


def _labels_of(points: list[PointSummary]) -> dict[str, str]:
    return {p.code: f"{p.code} · {p.name} · {_kind(p.kind)}" for p in points}


def _meter_inputs(prefix: str, zone: str) -> None:
    st.text_input(tr("selfservice.meters.serial"), key=f"{prefix}_serial", max_chars=64)
    left, right = st.columns(2)
    left.text_input(
        tr("selfservice.meters.multiplier"),
        key=f"{prefix}_multiplier",
        placeholder="1",
        help=tr("selfservice.meters.multiplier_help"),
    )
    right.text_input(
        tr("selfservice.meters.digits"),
        key=f"{prefix}_digits",
        help=tr("selfservice.meters.digits_help"),
    )
    st.caption(tr("selfservice.meters.installed_at", zone=zone))
    moment_inputs(prefix, zone, reset=False)
    st.text_input(tr("selfservice.meters.initial"), key=f"{prefix}_initial")


def add_tab(user: Principal, office_code: str, zone: str, points: list[PointSummary]) -> None:
    kinds = {k.value: _kind(k.value) for k in EnergyKind}
    parents = {NO_PARENT: tr("selfservice.meters.no_parent"), **_labels_of(points)}
    if st.session_state.get(NEW_PARENT) not in parents:
        st.session_state[NEW_PARENT] = NO_PARENT
    with st.form("met_new", width=560, border=False):
        st.text_input(
            tr("selfservice.meters.code"),
            key=NEW[0],
            max_chars=64,
            placeholder=f"{office_code}-E-B1",
            help=tr("selfservice.meters.code_help"),
        )
        st.text_input(tr("selfservice.meters.name"), key=NEW[1], max_chars=200)
        st.selectbox(
            tr("selfservice.meters.kind"),
            list(kinds),
            format_func=kinds.__getitem__,
            index=None,
            placeholder=tr("selfservice.meters.choose"),
            key=NEW_KIND,
        )
        st.selectbox(
            tr("selfservice.meters.parent"),
            list(parents),
            format_func=parents.__getitem__,
            key=NEW_PARENT,
            help=tr("selfservice.meters.parent_help"),
        )
        st.text_input(
            tr("selfservice.meters.building"),
            key=NEW[2],
            max_chars=100,
            help=tr("selfservice.meters.building_help"),
        )
        st.markdown(f"**{tr('selfservice.meters.first_meter')}**")
        _meter_inputs("met_new", zone)
        st.form_submit_button(
            tr("selfservice.meters.add"),
            type="primary",
            width="stretch",
            on_click=_create,
            args=(user, office_code),
            key="met_new_submit",
        )


def _load(status: PointStatus) -> None:
    state = st.session_state
    state[EDIT_NAME] = status.name
    state[EDIT_PARENT] = status.parent_code or NO_PARENT
    state[EDIT_BUILDING] = status.building or ""
    state[EDIT_LOADED] = status


def edit_tab(user: Principal, points: list[PointSummary]) -> None:
    labels = _labels_of(points)
    code = st.selectbox(
        tr("selfservice.meters.pick"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("selfservice.meters.choose"),
        key=EDIT_PICK,
    )
    if not code:
        return
    try:
        with unit_of_work(operational_engine()) as db:
            status = point_status(db, user, str(code), Permission.MANAGE_METERS)
    except DomainError as missing:
        st.warning(error_text(missing))
        return
    loaded = st.session_state.get(EDIT_LOADED)
    if not isinstance(loaded, PointStatus) or loaded.code != status.code:
        _load(status)
        loaded = status
    parents = {
        NO_PARENT: tr("selfservice.meters.no_parent"),
        **{c: t for c, t in labels.items() if c != status.code},
    }
    st.caption(tr("selfservice.meters.edit_fixed", code=md(status.code), kind=_kind(status.kind)))
    with st.form("met_edit", width=560, border=False):
        st.text_input(tr("selfservice.meters.name"), key=EDIT_NAME, max_chars=200)
        st.selectbox(
            tr("selfservice.meters.parent"),
            list(parents),
            format_func=parents.__getitem__,
            key=EDIT_PARENT,
        )
        st.text_input(tr("selfservice.meters.building"), key=EDIT_BUILDING, max_chars=100)
        st.form_submit_button(
            tr("selfservice.meters.save"),
            type="primary",
            width="stretch",
            on_click=_save,
            args=(user, loaded),
            key="met_edit_submit",
        )


def meters_tab(user: Principal, points: list[PointSummary], zone: str) -> None:
    labels = _labels_of(points)
    code = st.selectbox(
        tr("selfservice.meters.pick"),
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder=tr("selfservice.meters.choose"),
        key=METERS_PICK,
    )
    if not code:
        return
    with unit_of_work(operational_engine()) as db:
        meters = point_meters(db, user, str(code))
    if meters:
        cols = ("serial", "multiplier", "digits", "installed", "initial", "removed", "final")
        st.dataframe(
            pl.DataFrame(
                [
                    (
                        m.serial or "",
                        reading_text(m.multiplier),
                        str(m.digits or ""),
                        local_text(m.installed_at, zone),
                        reading_text(m.initial_reading),
                        local_text(m.removed_at, zone) if m.removed_at else "",
                        reading_text(m.final_reading) if m.final_reading is not None else "",
                    )
                    for m in meters
                ],
                schema={tr(f"selfservice.meters.meter_{c}"): pl.String for c in cols},
                orient="row",
            ),
            hide_index=True,
            width="stretch",
            placeholder=tr("finish.table.missing"),
        )
    if any(m.removed_at is None for m in meters):
        st.caption(tr("selfservice.meters.replace_hint"))
        st.page_link(
            "views/meter_replacement.py",
            label=tr("selfservice.meters.replace_link"),
            icon=":material/published_with_changes:",
        )
        return
    st.info(tr("selfservice.meters.no_meter"))
    with st.form("met_install", width=560, border=False):
        _meter_inputs("met_install", zone)
        st.form_submit_button(
            tr("selfservice.meters.install"),
            type="primary",
            width="stretch",
            on_click=_install,
            args=(user, str(code)),
            key="met_install_submit",
        )


def _area(value: Decimal | None) -> str:
    return reading_text(value) if value is not None else ""


def buildings_tab(user: Principal, office_code: str) -> None:
    with unit_of_work(operational_engine()) as db:
        buildings = list_buildings(db, user, office_code)
    if buildings:
        st.dataframe(
            pl.DataFrame(
                [(b.name, _area(b.area_m2), b.points) for b in buildings],
                schema={
                    tr("selfservice.meters.building_col_name"): pl.String,
                    tr("selfservice.meters.building_col_area"): pl.String,
                    tr("selfservice.meters.building_col_points"): pl.Int64,
                },
                orient="row",
            ),
            hide_index=True,
            width="stretch",
            placeholder=tr("finish.table.missing"),
        )
    else:
        st.info(tr("selfservice.meters.no_buildings"))
    with st.form("met_building", width=560, border=False):
        st.text_input(
            tr("selfservice.meters.building"),
            key=BUILDING_NAME,
            max_chars=100,
            help=tr("selfservice.meters.building_name_help"),
        )
        st.text_input(tr("selfservice.meters.area"), key=BUILDING_AREA)
        st.form_submit_button(
            tr("selfservice.meters.building_save"),
            type="primary",
            width="stretch",
            on_click=_building,
            args=(user, office_code),
            key="met_building_submit",
        )


def import_tab(user: Principal, office_code: str) -> None:
    specs = runnable(user, ("meters", "readings", "replacements"))
    titles = {s.name: tr(s.title_key) for s in specs}
    name = st.radio(
        tr("selfservice.imports.kind_label"),
        list(titles),
        format_func=titles.__getitem__,
        horizontal=True,
        key=IMPORT_KIND,
    )
    spec = next(s for s in specs if s.name == name)
    upload_panel(spec, user, f"met_import_{spec.name}", office_code)


def labels_tab(user: Principal, office_code: str, points: list[PointSummary]) -> None:
    label_sheet(
        prefix="met",
        user=user,
        office_code=office_code,
        offered=_labels_of(points),
        choose_key="selfservice.labels.choose_points",
        maker=meter_labels_pdf,
        file_stem="meter-labels",
    )


def render() -> None:
    user = require(Permission.MANAGE_METERS)
    st.title(tr("selfservice.meters.title"))
    st.caption(tr("selfservice.meters.intro"))
    show_flash()
    office_code = office_choice(user, Permission.MANAGE_METERS, OFFICE)
    if office_code is None:
        return
    with unit_of_work(operational_engine()) as db:
        points = list_points(db, user, Permission.MANAGE_METERS, [office_code])
        zone = office_zone(db, user, office_code)
    tabs = st.tabs(
        [
            tr(f"selfservice.meters.tab_{t}")
            for t in ("points", "add", "edit", "meters", "buildings", "import", "labels")
        ]
    )
    with tabs[0]:
        points_tab(points, office_code)
    with tabs[1]:
        add_tab(user, office_code, zone, points)
    with tabs[2]:
        edit_tab(user, points)
    with tabs[3]:
        meters_tab(user, points, zone)
    with tabs[4]:
        buildings_tab(user, office_code)
    with tabs[5]:
        import_tab(user, office_code)
    with tabs[6]:
        labels_tab(user, office_code, points)


render()
