"""Working calendars (工作日历): an office's hours, holidays and working days, and its
corrective-order targets.

For the calendar chosen (an office the user may manage, or the whole group's for a group-scope
user): the weekly hours with several intervals a day; the days of its own (holidays, working
days — 调休 — with or without hours of their own) to add and remove; a preview of the next
deadlines from an instant, computed by the SLA rule (``operational.sla.due_at``) in that
calendar; the upload of a ``propcloud import working-hours`` or ``calendar-days`` file with its
row report, and Excel templates; the corrective-order targets per discipline
(``MANAGE_DEADLINES``). A warning names this year or next when it has no public holidays loaded.
Rules: docs/sla-clocks.md; forms keep what was typed when refused and list every problem.
Actions run in widget callbacks, before the page is drawn.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from sqlalchemy.orm import Session

from dashboards.export import XLSX_MIME, excel_bytes
from dashboards.session import (
    flash,
    language,
    operational_engine,
    require,
    show_flash,
    tr,
)
from operational.auth import Permission, Principal
from operational.calendars import Interval
from operational.db import unit_of_work
from operational.errors import DomainError, FormRejected
from operational.imports.calendars import (
    CALENDAR_DAYS_COLUMNS,
    WORKING_HOURS_COLUMNS,
    import_calendar_days_file,
    import_working_hours_file,
)
from operational.imports.table import ImportRejected, ImportSummary
from operational.services import calendars, lookup, orders
from operational.services.calendars import (
    WEEKDAY_NAMES,
    CalendarChoice,
    CalendarView,
    clock_text,
    intervals_text,
)
from operational.sla import DEFAULT_TARGETS, CalendarKind, ClockTarget, ClockUnit

GROUP = "*"  # the select box's value for the group's own calendar (no bare string: magic shows it)
GROUP_ZONE = ZoneInfo("Asia/Shanghai")
OFFICE = "cal_office"
WEEK = tuple(f"cal_week_{d}" for d in range(7))
WEEK_LOADED = "cal_week_loaded"
DAY_DATE, DAY_KIND, DAY_HOURS = "cal_day_date", "cal_day_kind", "cal_day_hours"
REMOVE_DAY = "cal_remove_day"
PREVIEW_DATE, PREVIEW_TIME = "cal_preview_date", "cal_preview_time"
IMPORT_KIND, UPLOAD, REPORT = "cal_import_kind", "cal_upload", "cal_report"
IMPORT_KINDS = ("working-hours", "calendar-days")
TARGETS_LOADED = "cal_targets_loaded"
PROBLEMS = "cal_problems"
UNITS = tuple(unit.value for unit in ClockUnit)  # business minutes, calendar minutes, hours
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """``text`` with every Markdown character escaped: what the user typed (or a file held)
    shown as typed, not as formatting."""
    return _MARKDOWN.sub(r"\\\1", text)


def _unit_key(discipline: str) -> str:
    return f"cal_target_unit_{discipline}"


def _amount_key(discipline: str) -> str:
    return f"cal_target_amount_{discipline}"


def _code(value: object) -> str | None:
    """The office code of the select box's value (None: the group)."""
    return None if value in (GROUP, None) else str(value)


def _said(error: DomainError) -> str:
    """A refusal as plain text: :func:`show_problems` escapes every problem line itself."""
    return error.message(language())


def _refuse(problems: Sequence[str]) -> None:
    """Keep every problem of a refused form for the page to list (the form keeps its values)."""
    st.session_state[PROBLEMS] = list(problems)


def _problem_lines(error: DomainError) -> list[str]:
    if isinstance(error, FormRejected):
        return error.messages(language())
    return [_said(error)]


def _save(action: Callable[[Session], None], done: str) -> bool:
    """Run one command in one transaction; the outcome is kept for the page."""
    try:
        with unit_of_work(operational_engine()) as db:
            action(db)
    except DomainError as refused:
        _refuse(_problem_lines(refused))
        return False
    flash(done)
    return True


# --- actions (widget callbacks) ---------------------------------------------------------------


def _save_week(user: Principal, office_code: str | None) -> None:
    problems: list[str] = []
    week: dict[int, list[Interval]] = {}
    for weekday, key in enumerate(WEEK):
        text = str(st.session_state.get(key) or "")
        name = tr(f"calendar_ui.weekday.{WEEKDAY_NAMES[weekday]}")
        try:
            intervals = calendars.parse_intervals(text)
        except DomainError as bad:
            problems.append(tr("calendar_ui.week.day_problem", weekday=name, problem=_said(bad)))
            continue
        problems += [_said(p) for p in calendars.interval_problems(name, intervals)]
        if intervals:
            week[weekday] = list(intervals)
    if not week and not problems:
        problems.append(tr("calendar_ui.week.empty"))
    if problems:
        _refuse(problems)
        return
    if _save(
        lambda db: calendars.set_working_hours(db, user, office_code, week),
        tr("calendar_ui.week.saved"),
    ):
        st.session_state[WEEK_LOADED] = None  # show what is stored now


def _use_group_week(user: Principal, office_code: str) -> None:
    if _save(
        lambda db: calendars.set_working_hours(db, user, office_code, {}),
        tr("calendar_ui.week.reset"),
    ):
        st.session_state[WEEK_LOADED] = None


def _add_day(user: Principal, office_code: str | None) -> None:
    day = st.session_state.get(DAY_DATE)
    kind = st.session_state.get(DAY_KIND) or "holiday"
    text = str(st.session_state.get(DAY_HOURS) or "")
    problems: list[str] = []
    if not isinstance(day, date):
        problems.append(tr("calendar_ui.days.date_missing"))
    hours: tuple[Interval, ...] = ()
    if kind == "workday":
        try:
            hours = calendars.parse_intervals(text)
        except DomainError as bad:
            problems.append(_said(bad))
        if isinstance(day, date):
            problems += [_said(p) for p in calendars.interval_problems(day.isoformat(), hours)]
    elif text.strip():
        problems.append(tr("calendar_ui.days.holiday_hours"))
    if problems or not isinstance(day, date):
        _refuse(problems)
        return
    label = tr(f"calendar_ui.kind.{kind}")
    if _save(
        lambda db: calendars.add_day_override(
            db, user, office_code, day, "holiday" if kind == "holiday" else "workday", hours=hours
        ),
        tr("calendar_ui.days.added", day=day.isoformat(), kind=label),
    ):
        st.session_state[DAY_HOURS] = ""


def _remove_day(user: Principal, office_code: str | None) -> None:
    day = st.session_state.get(REMOVE_DAY)
    if not isinstance(day, date):
        _refuse([tr("calendar_ui.days.date_missing")])
        return
    _save(
        lambda db: calendars.remove_day_override(db, user, office_code, day),
        tr("calendar_ui.days.removed", day=day.isoformat()),
    )


def _upload(user: Principal) -> None:
    uploaded = st.session_state.get(UPLOAD)
    kind = st.session_state.get(IMPORT_KIND) or "working-hours"
    st.session_state[REPORT] = None
    if uploaded is None:
        _refuse([tr("calendar_ui.import.missing")])
        return
    run = import_working_hours_file if kind == "working-hours" else import_calendar_days_file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{Path(uploaded.name).suffix.lower()}"
        path.write_bytes(uploaded.getvalue())
        try:
            with unit_of_work(operational_engine()) as db:
                summary: ImportSummary = run(db, path, actor=user)
        except ImportRejected as rejected:
            st.session_state[REPORT] = (
                rejected.message(language()),
                [
                    (e.row, str(e.params.get("column", "")), e.message(language()))
                    for e in rejected.errors
                ],
            )
            return
        except DomainError as refused:
            _refuse([_said(refused)])
            return
    st.session_state[WEEK_LOADED] = None
    flash(tr("calendar_ui.import.done", file=plain(uploaded.name)) + summary.message(language()))


def _save_targets(user: Principal, office_code: str, stored: dict[str, ClockTarget]) -> None:
    problems: list[str] = []
    wanted: dict[str, ClockTarget] = {}
    for discipline in stored:
        unit = str(st.session_state.get(_unit_key(discipline)) or UNITS[0])
        amount = st.session_state.get(_amount_key(discipline))
        name = tr(f"discipline.{discipline}")
        if not isinstance(amount, int) or amount <= 0:
            problems.append(tr("calendar_ui.targets.bad_amount", discipline=name))
            continue
        kind: CalendarKind = "office" if unit == ClockUnit.BUSINESS_MINUTES.value else "24x7"
        wanted[discipline] = ClockTarget(amount, ClockUnit(unit), kind)
    if problems:
        _refuse(problems)
        return
    changed = {d: t for d, t in wanted.items() if stored.get(d) != t}

    document_type = _target_type()

    def save(db: Session) -> None:
        for discipline, target in changed.items():
            orders.set_target(
                db, user, office_code, discipline, target, document_type=document_type
            )

    if _save(save, tr("calendar_ui.targets.saved", count=len(changed))):
        st.session_state[TARGETS_LOADED] = None


# --- drawing ----------------------------------------------------------------------------------


def _label(choice: CalendarChoice) -> str:
    if choice.office_code is None:
        return tr("calendar_ui.group")
    return f"{choice.office_code} · {choice.name}"


def _weekday(day: date) -> str:
    return tr(f"calendar_ui.weekday.{WEEKDAY_NAMES[day.weekday()]}")


def show_problems() -> None:
    """Every problem of the last refused form, once, shown as typed."""
    problems = st.session_state.pop(PROBLEMS, None)
    if problems:
        st.error(
            tr("calendar_ui.refused", count=len(problems))
            + "\n\n"
            + "\n".join(f"- {plain(line)}" for line in problems)
        )


def holiday_warning() -> None:
    today = datetime.now(GROUP_ZONE).date()
    with unit_of_work(operational_engine()) as db:
        missing = calendars.years_without_holidays(db, today)
    for year in missing:
        st.warning(tr("calendar_ui.no_holidays", year=year), icon=":material/event_busy:")


def week_tab(user: Principal, view: CalendarView, key: str) -> None:
    if view.office_code is None:
        st.caption(tr("calendar_ui.week.group_hint"))
    else:
        st.caption(tr("calendar_ui.week.own" if view.own_week else "calendar_ui.week.inherited"))
    if st.session_state.get(WEEK_LOADED) != key:
        for weekday, state_key in enumerate(WEEK):
            st.session_state[state_key] = intervals_text(view.week.get(weekday + 1, ()))
        st.session_state[WEEK_LOADED] = key
    with st.form("cal_week", width=560, border=False):
        for weekday, state_key in enumerate(WEEK):
            st.text_input(
                tr(f"calendar_ui.weekday.{WEEKDAY_NAMES[weekday]}"),
                key=state_key,
                placeholder=tr("calendar_ui.week.not_worked"),
            )
        st.caption(tr("calendar_ui.week.help"))
        st.form_submit_button(
            tr("calendar_ui.week.save"),
            type="primary",
            width="stretch",
            on_click=_save_week,
            args=(user, view.office_code),
            key="cal_week_submit",
        )
    if view.office_code is not None and view.own_week:
        st.button(
            tr("calendar_ui.week.use_group"),
            on_click=_use_group_week,
            args=(user, view.office_code),
            key="cal_week_reset",
        )


def _days_table(view: CalendarView) -> pl.DataFrame:
    return pl.DataFrame(
        {
            tr("calendar_ui.days.col_date"): [d.day.isoformat() for d in view.days],
            tr("calendar_ui.days.col_weekday"): [_weekday(d.day) for d in view.days],
            tr("calendar_ui.days.col_kind"): [tr(f"calendar_ui.kind.{d.kind}") for d in view.days],
            tr("calendar_ui.days.col_hours"): [
                intervals_text(d.hours)
                if d.hours
                else (
                    tr(
                        "calendar_ui.days.like",
                        weekday=tr(f"calendar_ui.weekday.{WEEKDAY_NAMES[d.as_weekday or 0]}"),
                    )
                    if d.kind == "workday"
                    else ""
                )
                for d in view.days
            ],
        },
        schema={
            tr(f"calendar_ui.days.col_{c}"): pl.String for c in ("date", "weekday", "kind", "hours")
        },
    )


def days_tab(user: Principal, view: CalendarView) -> None:
    st.caption(
        tr("calendar_ui.days.group_hint" if view.office_code is None else "calendar_ui.days.hint")
    )
    if view.days:
        st.dataframe(
            _days_table(view),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
            key="cal_days_table",
        )
    else:
        st.info(tr("calendar_ui.days.none"))
    with st.form("cal_day", width=560, border=False):
        st.date_input(tr("calendar_ui.days.date"), value=None, key=DAY_DATE)
        st.radio(
            tr("calendar_ui.days.kind"),
            ["holiday", "workday"],
            format_func={k: tr(f"calendar_ui.kind.{k}") for k in calendars.DAY_KINDS}.__getitem__,
            horizontal=True,
            key=DAY_KIND,
        )
        st.text_input(
            tr("calendar_ui.days.hours"),
            key=DAY_HOURS,
            placeholder="09:00-12:00, 13:30-18:00",
            help=tr("calendar_ui.days.hours_help"),
        )
        st.form_submit_button(
            tr("calendar_ui.days.add"),
            type="primary",
            width="stretch",
            on_click=_add_day,
            args=(user, view.office_code),
            key="cal_day_submit",
        )
    if view.days:
        st.selectbox(
            tr("calendar_ui.days.remove_pick"),
            [d.day for d in view.days],
            format_func={d.day: f"{d.day.isoformat()} ({_weekday(d.day)})" for d in view.days}.get,
            index=None,
            placeholder=tr("calendar_ui.choose"),
            key=REMOVE_DAY,
        )
        st.button(
            tr("calendar_ui.days.remove"),
            on_click=_remove_day,
            args=(user, view.office_code),
            key="cal_remove_submit",
        )


def _preview_targets(
    targets: dict[str, tuple[ClockTarget, bool]] | None,
) -> list[tuple[str, ClockTarget]]:
    rows = [
        (tr("calendar_ui.preview.pickup"), DEFAULT_TARGETS[("cs_task", "pickup")]),
        (
            tr("calendar_ui.preview.business_day"),
            ClockTarget(24 * 60, ClockUnit.BUSINESS_MINUTES, "office"),
        ),
        (tr("calendar_ui.preview.repair"), DEFAULT_TARGETS[("repair", "resolution")]),
    ]
    for discipline, (target, own) in (targets or {}).items():
        if own:
            name = tr(f"discipline.{discipline}")
            rows.append((tr("calendar_ui.preview.corrective", discipline=name), target))
    return rows


def target_text(target: ClockTarget) -> str:
    return tr(f"calendar_ui.unit.{target.unit.value}", amount=target.amount)


def preview_tab(
    user: Principal, view: CalendarView, targets: dict[str, tuple[ClockTarget, bool]] | None
) -> None:
    zone = ZoneInfo(view.timezone)
    now = datetime.now(zone).replace(second=0, microsecond=0)
    st.caption(tr("calendar_ui.preview.hint", zone=view.timezone))
    left, right = st.columns(2)
    with left:
        day = st.date_input(tr("calendar_ui.preview.date"), value=now.date(), key=PREVIEW_DATE)
    with right:
        clock = st.time_input(
            tr("calendar_ui.preview.time"), value=now.time(), key=PREVIEW_TIME, step=300
        )
    if not isinstance(day, date) or not isinstance(clock, time):
        return
    start = datetime.combine(day, clock, tzinfo=zone)
    rows = _preview_targets(targets)
    with unit_of_work(operational_engine()) as db:
        due = calendars.preview_deadlines(db, user, view.office_code, start, [t for _, t in rows])
    table = pl.DataFrame(
        {
            tr("calendar_ui.preview.col_clock"): [name for name, _ in rows],
            tr("calendar_ui.preview.col_target"): [target_text(t) for _, t in rows],
            tr("calendar_ui.preview.col_due"): [
                f"{d.astimezone(zone):%Y-%m-%d %H:%M} ({_weekday(d.astimezone(zone).date())})"
                for d in due
            ],
        }
    )
    st.dataframe(
        table, hide_index=True, placeholder=tr("finish.table.missing"), key="cal_preview_table"
    )
    started = f"{start:%Y-%m-%d %H:%M} ({_weekday(start.date())})"
    first = due[0].astimezone(zone)
    st.caption(
        tr(
            "calendar_ui.preview.sentence",
            start=started,
            due=f"{first:%Y-%m-%d %H:%M} ({_weekday(first.date())})",
        )
    )


def _template(kind: str, view: CalendarView) -> bytes:
    code = view.office_code or ""
    if kind == "working-hours":
        rows = [
            (code, str(weekday), clock_text(start), clock_text(end))
            for weekday, intervals in sorted(view.week.items())
            for start, end in intervals
        ]
        return excel_bytes(
            pl.DataFrame(rows, schema=list(WORKING_HOURS_COLUMNS), orient="row"), kind
        )
    days: list[tuple[str, str, str, str, str]] = []
    for d in view.days:
        spans = [(clock_text(a), clock_text(b)) for a, b in d.hours] or [("", "")]
        days += [(code, d.day.isoformat(), d.kind, start, end) for start, end in spans]
    if not days:  # an example: a holiday, and a Saturday worked with the Monday hours
        days = [(code, "2027-01-01", "holiday", "", ""), (code, "2027-01-09", "workday", "", "")]
    return excel_bytes(pl.DataFrame(days, schema=list(CALENDAR_DAYS_COLUMNS), orient="row"), kind)


def import_tab(user: Principal, view: CalendarView) -> None:
    st.caption(tr("calendar_ui.import.hint"))
    kind = st.radio(
        tr("calendar_ui.import.kind"),
        list(IMPORT_KINDS),
        format_func={k: tr(f"calendar_ui.import.{k}") for k in IMPORT_KINDS}.__getitem__,
        horizontal=True,
        key=IMPORT_KIND,
    )
    st.caption(tr(f"calendar_ui.import.columns_{kind}"))
    st.download_button(
        tr("calendar_ui.import.template"),
        data=_template(str(kind), view),
        file_name=f"{kind}.xlsx",
        mime=XLSX_MIME,
        key="cal_template",
        icon=":material/download:",
        on_click="ignore",
    )
    st.file_uploader(tr("calendar_ui.import.file"), type=["csv", "xlsx"], key=UPLOAD)
    st.button(
        tr("calendar_ui.import.submit"),
        type="primary",
        on_click=_upload,
        args=(user,),
        key="cal_import_submit",
    )
    report = st.session_state.get(REPORT)
    if report:
        header, rows = report
        st.error(header)
        st.dataframe(
            pl.DataFrame(
                rows,
                schema={
                    tr("calendar_ui.import.col_row"): pl.Int64,
                    tr("calendar_ui.import.col_column"): pl.String,
                    tr("calendar_ui.import.col_problem"): pl.String,
                },
                orient="row",
            ),
            hide_index=True,
            placeholder=tr("finish.table.missing"),
            key="cal_report_table",
        )


TARGET_TYPE = "cal_targets_type"


def _target_type() -> str:
    """The document type whose targets the tab shows (corrective orders unless chosen)."""
    chosen = st.session_state.get(TARGET_TYPE)
    return chosen if chosen in orders.TARGET_DOCUMENT_TYPES else "corrective_order"


def targets_tab(
    user: Principal, office_code: str, targets: dict[str, tuple[ClockTarget, bool]]
) -> None:
    st.caption(tr("calendar_ui.targets.hint"))
    # Whose targets: corrective orders, or one of the nonconformity kinds (docs/nonconformities.md).
    types = sorted(orders.TARGET_DOCUMENT_TYPES, key=lambda t: t != "corrective_order")
    st.selectbox(
        tr("ncflows_ui.targets_for"),
        types,
        format_func=lambda t: tr(f"workflow.document.{t}"),
        key=TARGET_TYPE,
    )
    document_type = _target_type()
    if document_type != "corrective_order":
        with unit_of_work(operational_engine()) as db:
            targets = orders.corrective_targets(db, user, office_code, document_type=document_type)
    loaded = st.session_state.get(TARGETS_LOADED)
    if loaded != (office_code, document_type):
        for discipline, (target, _) in targets.items():
            st.session_state[_unit_key(discipline)] = target.unit.value
            st.session_state[_amount_key(discipline)] = target.amount
        st.session_state[TARGETS_LOADED] = (office_code, document_type)
    stored = {d: t for d, (t, own) in targets.items()}
    unit_names = {u: tr(f"calendar_ui.targets.unit_{u}") for u in UNITS}
    with st.form("cal_targets", width=560, border=False):
        for discipline, (target, own) in targets.items():
            name = tr(f"discipline.{discipline}")
            state = tr("calendar_ui.targets.own" if own else "calendar_ui.targets.default")
            st.markdown(f"**{name}** · {state}: {target_text(target)}")
            left, right = st.columns(2)
            with left:
                st.number_input(
                    tr("calendar_ui.targets.amount"),
                    min_value=1,
                    max_value=100_000,
                    step=1,
                    key=_amount_key(discipline),
                )
            with right:
                st.selectbox(
                    tr("calendar_ui.targets.unit"),
                    UNITS,
                    format_func=unit_names.__getitem__,
                    key=_unit_key(discipline),
                )
        st.form_submit_button(
            tr("calendar_ui.targets.save"),
            type="primary",
            width="stretch",
            on_click=_save_targets,
            args=(user, office_code, stored),
            key="cal_targets_submit",
        )


def render() -> None:
    user = require(Permission.MANAGE_CALENDARS)
    st.title(tr("calendar_ui.title"))
    st.caption(tr("calendar_ui.intro"))
    holiday_warning()
    show_flash()
    show_problems()
    with unit_of_work(operational_engine()) as db:
        choices = calendars.editable_calendars(db, user)
        deadline_offices = {o.code for o in lookup.offices(db, user, Permission.MANAGE_DEADLINES)}
    if not choices:
        st.info(tr("calendar_ui.no_offices"))
        return
    labels = {c.office_code or GROUP: _label(c) for c in choices}
    value = st.selectbox(
        tr("calendar_ui.office"), list(labels), format_func=labels.__getitem__, key=OFFICE
    )
    # Only a listed calendar, whatever the session state says (the services check again).
    office_code = _code(value if value in labels else next(iter(labels)))
    with unit_of_work(operational_engine()) as db:
        view = calendars.calendar_view(db, user, office_code)
        targets = (
            orders.corrective_targets(db, user, office_code)
            if office_code is not None and office_code in deadline_offices
            else None
        )
    st.caption(tr("calendar_ui.zone", zone=view.timezone))
    names = ["week", "days", "preview", "import"] + (["targets"] if targets is not None else [])
    tabs = st.tabs([tr(f"calendar_ui.tab.{name}") for name in names])
    with tabs[0]:
        week_tab(user, view, office_code or GROUP)
    with tabs[1]:
        days_tab(user, view)
    with tabs[2]:
        preview_tab(user, view, targets)
    with tabs[3]:
        import_tab(user, view)
    if targets is not None and office_code is not None:
        with tabs[4]:
            targets_tab(user, office_code, targets)
    else:
        st.session_state[TARGETS_LOADED] = None  # its widgets were not drawn: load them again


render()
