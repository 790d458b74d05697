"""What the energy pages share: the warehouse reads they need beyond ``EnergyReader``, the
drill-down tree, quantities with their units, and the pieces of the two data-entry forms.

Analytics come only from the published marts (``warehouse.queries_energy.EnergyReader`` plus the
point dimension read here); the forms talk to ``operational.services.energy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from dashboards.session import tr
from warehouse.queries import WarehouseReader
from warehouse.queries_energy import EnergyReader, Kind, Level

KINDS: tuple[Kind, ...] = ("electricity", "water")
UNITS: dict[str, str] = {"electricity": "kWh", "water": "m³"}
DISPLAY_ZONE = "Asia/Shanghai"
"""Warehouse instants are UTC; the group's offices read clocks in this zone unless told."""

POINT_SCHEMA = pl.Schema(
    {
        "point_code": pl.String,
        "name": pl.String,
        "kind": pl.String,
        "office_code": pl.String,
        "city_code": pl.String,
        "group_code": pl.String,
        "timezone": pl.String,
        "parent_point_code": pl.String,
        "building": pl.String,
        "building_area_m2": pl.Float64,
        "is_root": pl.Boolean,
        "has_children": pl.Boolean,
    }
)

# ---------------------------------------------------------------- quantities


def unit(kind: str) -> str:
    return UNITS[kind]


def quantity(value: float | Decimal | None, kind_unit: str, decimals: int = 1) -> str:
    """``12,345.6 kWh``; a missing value is a dash."""
    if value is None:
        return "—"
    return f"{float(value):,.{decimals}f} {kind_unit}"


def number_format(kind_unit: str, decimals: int = 1) -> st.column_config.NumberColumn:
    """How a table column of quantities shows: thousands separators, ``decimals`` places and
    the unit (``12,345.6 kWh``); the value itself stays a number (sorting, Excel)."""
    return st.column_config.NumberColumn(format=f"%,.{decimals}f {kind_unit}")


def reading_text(value: Decimal | float | None) -> str:
    """A register reading as the meter shows it: no grouping, no trailing zeros."""
    if value is None:
        return "—"
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def local_text(instant: datetime | None, zone: str = DISPLAY_ZONE) -> str:
    """An instant (aware, or naive UTC as the warehouse stores it) on the office's clock."""
    if instant is None:
        return "—"
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo("UTC"))
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def local_now(zone: str) -> datetime:
    """Now on the office's clock, to the minute, without the zone (the services read it so)."""
    return datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)


# ---------------------------------------------------------------- warehouse


@dataclass(frozen=True)
class Node:
    """A place in the drill-down: ``level`` and ``code`` as in ``marts.energy_monthly``."""

    level: Level
    code: str
    label: str


class EnergyData:
    """The energy marts as one user may read them: readers bound to the user's offices."""

    def __init__(self, org: WarehouseReader, reader: EnergyReader) -> None:
        self.warehouse = org
        self.reader = reader

    def org(self) -> pl.DataFrame:
        """group, city and office codes and names of the offices in scope."""
        return self.warehouse.org_overview()

    def totals(self) -> pl.DataFrame:
        """The group and city totals the user may see (``WarehouseReader.visible_totals``)."""
        return self.warehouse.visible_totals()

    def points(self, kind: Kind) -> pl.DataFrame:
        """The metering points of ``kind`` in scope, with their place in the tree."""
        frame = self.reader.points(kind)
        return pl.DataFrame(schema=POINT_SCHEMA) if frame.is_empty() else frame

    def children(self, node: Node, kind: Kind, start: date, end: date) -> pl.DataFrame:
        """``EnergyReader.children`` (level, node_code, name, consumption, complete)."""
        return self.reader.children(node.level, node.code, kind, start, end)

    def points_under(self, points: pl.DataFrame, node: Node) -> pl.DataFrame:
        """The points of ``points`` that lie in ``node`` (all of them for the group)."""
        if node.level == "city":
            return points.filter(pl.col("city_code") == node.code)
        if node.level == "office":
            return points.filter(pl.col("office_code") == node.code)
        if node.level == "building":
            office, _, building = node.code.partition("/")
            return points.filter(
                (pl.col("office_code") == office) & (pl.col("building") == building)
            )
        if node.level == "point":
            return points.filter(pl.col("point_code") == node.code)
        return points


def year_to_date(
    reader: EnergyReader, node: Node, kind: Kind, as_of: date
) -> tuple[float | None, float | None, bool]:
    """Consumption from 1 January to ``as_of`` this year and over the same days last year, and
    whether last year's data covers as many days as this year's (else no fair comparison)."""
    this = reader.daily_node(node.level, node.code, kind, date(as_of.year, 1, 1), as_of)
    try:
        same_day = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        same_day = date(as_of.year - 1, 2, 28)
    last = reader.daily_node(node.level, node.code, kind, date(as_of.year - 1, 1, 1), same_day)

    def total(frame: pl.DataFrame) -> float | None:
        return None if frame.is_empty() else float(frame["consumption"].sum())

    comparable = not this.is_empty() and not last.is_empty() and last.height >= this.height
    return total(this), total(last), comparable


# ---------------------------------------------------------------- the data-entry forms


def point_choice_labels(points: list[tuple[str, str, str, str | None]]) -> dict[str, str]:
    """code → ``name · code · kind · building`` for a searchable select (typing filters)."""
    labels = {}
    for code, name, kind, building in points:
        parts = [name, code, tr(f"energy_ui.kind.{kind}")]
        if building:
            parts.append(building)
        labels[code] = " · ".join(parts)
    return labels


def requested_point() -> str | None:
    """The point a QR label asked for: ``?point=`` in the address, or kept over the login."""
    asked = st.query_params.get("point")
    kept = st.session_state.pop("login_query", None)
    if not asked and isinstance(kept, dict):
        value = kept.get("point")
        asked = value[0] if isinstance(value, list) else value
    return asked.strip() if isinstance(asked, str) and asked.strip() else None


def moment_inputs(prefix: str, zone: str, *, reset: bool) -> None:
    """A date and a time input (keys ``{prefix}_date`` / ``{prefix}_time``), set to now on the
    office's clock when ``reset`` (a new point, or after a stored entry)."""
    now = local_now(zone)
    if reset or f"{prefix}_date" not in st.session_state:
        st.session_state[f"{prefix}_date"] = now.date()
        st.session_state[f"{prefix}_time"] = now.time()
    day, clock = st.columns(2)
    day.date_input(tr("energy_ui.form.date"), key=f"{prefix}_date", max_value=now.date())
    clock.time_input(tr("energy_ui.form.time", zone=zone), key=f"{prefix}_time", step=60)


def chosen_moment(prefix: str) -> datetime:
    """The office-local (naive) instant of the inputs drawn by :func:`moment_inputs`."""
    day = st.session_state[f"{prefix}_date"]
    clock = st.session_state[f"{prefix}_time"]
    return datetime.combine(day, clock if isinstance(clock, time) else time(0))


PHONE_CSS = """
<style>
.st-key-energy_entry input { font-size: 1.25rem; min-height: 3rem; }
.st-key-energy_entry button[kind="primaryFormSubmit"],
.st-key-energy_entry button[data-testid="stBaseButton-primaryFormSubmit"] {
    min-height: 3rem; font-size: 1.1rem;
}
</style>
"""
"""Big inputs on the entry forms (everything inside the container keyed ``energy_entry``)."""
