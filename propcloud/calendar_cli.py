"""Working calendars: ``propcloud calendar show|set-hours|add-day|remove-day OFFICE …`` and
``propcloud import working-hours|calendar-days FILE``."""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import click

from operational.calendars import MIDNIGHT, Interval
from operational.db import create_db_engine, unit_of_work
from operational.errors import DomainError, FormRejected
from operational.i18n import t
from operational.imports.calendars import import_calendar_days_file, import_working_hours_file
from operational.services import calendars
from operational.settings import Settings, load_settings
from propcloud.console import CLI, encoding_option, run_import
from propcloud.console import fail as fail_with_message


def fail(error: DomainError, settings: Settings) -> NoReturn:
    """Refuse with the message, and every problem of a refused calendar edit."""
    if isinstance(error, FormRejected):
        click.echo(error.message(settings.language), err=True)
        for line in error.messages(settings.language):
            click.echo(line, err=True)
        sys.exit(1)
    fail_with_message(error, settings)


def _clock(text: str, value: str) -> time:
    if text.strip() == "24:00":
        return MIDNIGHT
    try:
        return time.fromisoformat(text.strip())
    except ValueError as exc:
        raise DomainError("calendars.bad_hours", value=value) from exc


def _weekday(name: str) -> int:
    key = name.strip().lower()[:3]
    if key not in calendars.WEEKDAY_NAMES:
        raise DomainError("calendars.bad_day_name", value=name)
    return calendars.WEEKDAY_NAMES.index(key)


def parse_hours(values: tuple[str, ...]) -> dict[int, list[Interval]]:
    """``mon=09:00-12:00,13:30-18:00`` (repeatable; ``mon,tue=…`` for several days) → by weekday
    0 = Monday; an end of 24:00 means midnight."""
    week: dict[int, list[Interval]] = {}
    for value in values:
        days, sep, spans = value.partition("=")
        if not sep or not spans.strip():
            raise DomainError("calendars.bad_hours", value=value)
        intervals: list[Interval] = []
        for span in spans.split(","):
            start, dash, end = span.partition("-")
            if not dash:
                raise DomainError("calendars.bad_hours", value=value)
            intervals.append((_clock(start, value), _clock(end, value)))
        for day in days.split(","):
            week.setdefault(_weekday(day), []).extend(intervals)
    return week


def register(main: click.Group, import_group: click.Group) -> None:
    """Attach ``propcloud calendar`` and the calendar imports."""

    @import_group.command("working-hours")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_working_hours(file: Path, encoding: str | None) -> None:
        """Import offices' weekly working hours (CSV or XLSX).

        Columns: office_code, weekday (1 = Monday … 7 = Sunday), start, end (HH:MM, office-local;
        several rows a day, e.g. for a lunch break). The file replaces the whole week of each
        office it names; rows with an empty office_code make the group's week, worked by every
        office without its own. All rows or none. See docs/import-formats.md.
        """
        run_import(file, lambda s, f: import_working_hours_file(s, f, actor=CLI, encoding=encoding))

    @import_group.command("calendar-days")
    @click.argument("file", type=click.Path(path_type=Path))
    @encoding_option
    def import_calendar_days(file: Path, encoding: str | None) -> None:
        """Import holidays and working days (调休) of offices or of the whole group (CSV or XLSX).

        Columns: office_code, date, kind (holiday or workday), and optional start, end (a
        workday's own hours, several rows for several intervals; empty: the office's Monday
        hours). An empty office_code applies to every office of the group (next year's official
        list); an office's own row wins. All rows or none. See docs/import-formats.md.
        """
        run_import(file, lambda s, f: import_calendar_days_file(s, f, actor=CLI, encoding=encoding))

    @main.group()
    def calendar() -> None:
        """Office working calendars (工作日历): hours, holidays, make-up working days."""

    @calendar.command("show")
    @click.argument("office")
    def calendar_show(office: str) -> None:
        """Show an office's working hours, its day overrides and where holidays come from."""
        settings = load_settings()
        lang = settings.language
        try:
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                row = calendars.office_by_code(session, office)
                own = calendars.weekly_hours(session, row)
                weekly = calendars.week_of(session, row)
                overrides = calendars.day_overrides(session, row)
                group_days = calendars.day_overrides(session, None)
                missing = calendars.years_without_holidays(
                    session, datetime.now(ZoneInfo(row.timezone)).date()
                )
                timezone = row.timezone
        except DomainError as error:
            fail(error, settings)
        click.echo(f"{office} ({timezone})")
        click.echo(t("calendars.cli.own_hours" if own else "calendars.cli.default_hours", lang))
        for weekday, name in enumerate(calendars.WEEKDAY_NAMES, start=1):
            spans = calendars.intervals_text(weekly.get(weekday, ()))
            click.echo(f"  {name}  {spans or t('calendars.cli.not_worked', lang)}")
        holidays, makeup = calendars.china_days()
        known = sorted(holidays | makeup)
        click.echo(t("calendars.cli.china", lang, first=known[0].year, last=known[-1].year))
        if group_days:
            years = sorted({d.day.year for d in group_days})
            click.echo(
                t(
                    "calendars.cli.group_days",
                    lang,
                    count=len(group_days),
                    years=", ".join(map(str, years)),
                )
            )
        for year in missing:
            click.echo(t("calendars.cli.no_holidays", lang, year=year), err=True)
        if not overrides:
            click.echo(t("calendars.cli.no_overrides", lang))
            return
        click.echo(t("calendars.cli.overrides", lang))
        for o in overrides:
            if o.kind == "holiday":
                label = t("calendars.cli.holiday", lang)
            elif o.hours:
                label = t(
                    "calendars.cli.workday_hours", lang, hours=calendars.intervals_text(o.hours)
                )
            else:
                label = t(
                    "calendars.cli.workday",
                    lang,
                    weekday=calendars.WEEKDAY_NAMES[o.as_weekday or 0],
                )
            click.echo(f"  {o.day.isoformat()}  {label}")

    @calendar.command("set-hours")
    @click.argument("office")
    @click.option(
        "--day",
        "days",
        multiple=True,
        help="WEEKDAY=HH:MM-HH:MM[,HH:MM-HH:MM…], e.g. mon,tue,wed,thu,fri=09:00-12:00,13:30-18:00;"
        " repeat per weekday. Weekdays not given are not worked.",
    )
    @click.option("--default", "use_default", is_flag=True, help="Back to the group default.")
    def calendar_set_hours(office: str, days: tuple[str, ...], use_default: bool) -> None:
        """Replace an office's weekly working hours (several intervals a day)."""
        settings = load_settings()
        if bool(days) == use_default:
            raise click.UsageError("give --day … or --default")
        try:
            week = parse_hours(days)
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                calendars.set_working_hours(session, CLI, office, week)
        except DomainError as error:
            fail(error, settings)
        click.echo(t("calendars.cli.hours_set", settings.language, office=office))

    @calendar.command("add-day")
    @click.argument("office")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--holiday", "kind", flag_value="holiday", help="Not worked.")
    @click.option("--workday", "kind", flag_value="workday", help="Worked (调休).")
    @click.option("--as", "as_day", default=None, help="Work it like this weekday (default mon).")
    def calendar_add_day(office: str, day: date, kind: str | None, as_day: str | None) -> None:
        """Make DAY (YYYY-MM-DD) a holiday or a working day for OFFICE, whatever China's list says."""
        settings = load_settings()
        if kind not in ("holiday", "workday"):
            raise click.UsageError("give --holiday or --workday")
        the_day = day.date() if hasattr(day, "date") else day
        try:
            as_weekday = _weekday(as_day) if as_day else None
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                calendars.add_day_override(
                    session,
                    CLI,
                    office,
                    the_day,
                    "holiday" if kind == "holiday" else "workday",
                    as_weekday,
                )
        except DomainError as error:
            fail(error, settings)
        label = t(
            "calendars.cli.holiday" if kind == "holiday" else "calendars.cli.workday",
            settings.language,
            weekday=calendars.WEEKDAY_NAMES[as_weekday or 0],
        )
        click.echo(
            t("calendars.cli.day_added", settings.language, day=the_day, kind=label, office=office)
        )

    @calendar.command("remove-day")
    @click.argument("office")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    def calendar_remove_day(office: str, day: date) -> None:
        """Drop OFFICE's override of DAY: China's list (or the weekday) applies again."""
        settings = load_settings()
        the_day = day.date() if hasattr(day, "date") else day
        try:
            with unit_of_work(create_db_engine(settings.database_url)) as session:
                calendars.remove_day_override(session, CLI, office, the_day)
        except DomainError as error:
            fail(error, settings)
        click.echo(t("calendars.cli.day_removed", settings.language, day=the_day, office=office))
