"""What the control tower shows, as functions of its indicator rows (``TowerReader``).

The tower's rows are generic (one per indicator of a node: ``docs/control-tower.md``), so the
page never lists indicators by hand: tables get one column per indicator present, in
:data:`INDICATORS` order and then any other; each row's figure, change, reason and drill links
come from its ``unit``, ``direction``, ``threshold`` and ``period``. An indicator added to the mart
appears on the page with its code as its label until the catalogue names it
(``tower.indicator.<code>``, ``tower.reason.<code>``) and, if it has one, a page to drill into
(:func:`drills`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from dashboards import navigation
from dashboards.navigation import PageSpec
from dashboards.session import language, tr
from operational.auth import Principal
from operational.i18n import catalogue

INDICATORS = (
    "sla_compliance",
    "open_orders",
    "overdue_orders",
    "plan_coverage",
    "energy_electricity",
    "energy_water",
    "energy_exceptions",
    "energy_losses",
    "energy_loss",
    "open_complaints",
    "escalated_level1",
    "escalated_level2",
    "ticket_resolution_compliance",
    "night_service_share",
)
"""The order the indicators are shown in; indicators not listed come after them."""

ORDER_LIST = "order_list"
"""The orders list page (its address): ``office``, ``discipline``, ``state`` (open, overdue,
closed), ``month`` (YYYY-MM) and ``late`` (1) select the orders it lists."""
ENERGY = "energy"
"""The energy page (its address): ``office`` opens it on that office."""
PLANS = "plans"
SUPPLIERS = "suppliers"
ESCALATIONS = "escalations"
"""The complaint escalation board (its address): ``office``, ``city`` and ``level`` (0, 1, 2)
choose the open complaints it lists."""
ESCALATION_LEVELS = {"open_complaints": None, "escalated_level1": "1", "escalated_level2": "2"}
"""The supplier ranking page (its address): ``month`` (YYYY-MM) opens it on that month."""
STATUS_COLOURS = {"alert": "red", "watch": "orange", "ok": "green", "none": "gray"}
ENERGY_INDICATORS = ("energy_electricity", "energy_water")


def known(key: str) -> bool:
    return key in catalogue(language())


def indicator_label(indicator: str) -> str:
    key = f"tower.indicator.{indicator}"
    return tr(key) if known(key) else indicator


def unit_label(unit: str | None) -> str:
    key = f"tower.unit.{unit}"
    return tr(key) if unit and known(key) else (unit or "")


def month_text(day: date | None) -> str:
    return "" if day is None else day.strftime("%Y-%m")


def figure(value: float | None, unit: str | None, *, with_unit: bool = True) -> str:
    """A figure as people read it: ``62.0 %``, ``1,234``, ``12,345 kWh``; ``—`` when none.
    Without ``with_unit`` a quantity's unit is left to the label (a metric's)."""
    if value is None:
        return "—"
    if unit == "pct":
        return f"{value:.1f} %"
    if unit == "score":  # a supplier score: to the hundredth, as scored
        return f"{value:.2f}"
    if unit in ("kWh", "m3") and with_unit:
        return f"{value:,.0f} {unit_label(unit)}"
    return f"{value:,.0f}"


def label_with_unit(indicator: str, unit: str | None) -> str:
    """``用电 (kWh)``: an indicator's name with the unit of a quantity (not of a count)."""
    label = indicator_label(indicator)
    return f"{label} ({unit_label(unit)})" if unit in ("kWh", "m3") else label


def change(row: dict[str, Any]) -> float | None:
    """The change against the compared figure: points for a percentage, else per cent."""
    value, previous = row["value"], row["previous_value"]
    if value is None or previous is None:
        return None
    if row["unit"] == "pct":
        return float(value - previous)
    if previous <= 0:
        return None
    return 100.0 * (value / previous - 1)


def change_text(row: dict[str, Any]) -> str | None:
    moved = change(row)
    if moved is None:
        return None
    if row["unit"] == "pct":
        return tr("tower.delta.points", change=f"{moved:+.1f}")
    return tr("tower.delta.percent", change=f"{moved:+.1f} %")


def reason(row: dict[str, Any]) -> str:
    """Why a row matters, in words: ``Compliance 62.0 % in 2026-11 (−18.0 pts vs last
    month; 50 clocks finished)``, ``14 orders overdue (of 30 open)``, ``Loss 23.0 % on 主表 in
    2026-10 (threshold ±10.0 %)``."""
    indicator, unit = row["indicator"], row["unit"]
    moved = change(row)
    basis = row["basis"]
    missing = None
    if indicator == "plan_coverage" and basis is not None and row["value"] is not None:
        missing = round(basis * (1 - row["value"] / 100))
    params = {
        "value": figure(row["value"], unit),
        "month": month_text(row["period"]),
        "first": "" if row["period"] is None else row["period"].isoformat(),
        "last": "" if row["period_end"] is None else row["period_end"].isoformat(),
        "progress": tr("tower.in_progress_inline") if row["in_progress"] else "",
        "basis": "—" if basis is None else f"{basis:,}",
        "missing": "—" if missing is None else f"{missing:,}",
        "threshold": figure(row["threshold"], threshold_unit(row)),
        "point": row["detail"] or row["node_code"],
        "indicator": indicator_label(indicator),
        "change": ""
        if moved is None
        else (f"{moved:+.1f}" if unit == "pct" else f"{moved:+.1f} %"),
    }
    key = f"tower.reason.{indicator}"
    if indicator in ("sla_compliance", "ticket_resolution_compliance") and moved is None:
        key = f"tower.reason.{indicator}_first"
    elif indicator in ENERGY_INDICATORS and moved is None:
        key = f"tower.reason.{indicator}_new"
    elif indicator in ENERGY_INDICATORS:
        params["change"] = f"{moved:+.1f} %"
    if not known(key):
        key = "tower.reason.other"
    return tr(key, **params)


def threshold_unit(row: dict[str, Any]) -> str | None:
    """Thresholds of percentages, of energy rises and of losses are per cent; others counts."""
    judged_in_pct = row["unit"] == "pct" or row["indicator"] in (
        *ENERGY_INDICATORS,
        "energy_losses",
    )
    return "pct" if judged_in_pct else None


def threshold_help(row: dict[str, Any]) -> str:
    if row["threshold"] is None:
        return tr("tower.no_threshold")
    unit = threshold_unit(row)
    return tr(
        "tower.threshold_help",
        threshold=figure(row["threshold"], unit),
        alert=figure(row["alert_threshold"], unit),
    )


def status_label(status: str) -> str:
    return tr(f"tower.status.{status}")


@dataclass(frozen=True)
class Drill:
    """A link from a figure to what is behind it: a page (by its address) with parameters."""

    label_key: str
    target: str
    params: dict[str, str] = field(default_factory=dict)


def drills(row: dict[str, Any]) -> list[Drill]:
    """The pages behind an office's (or a metering point's) figure: the orders it counts, the
    energy page of the office. City and group figures drill into their offices instead."""
    office = row["office_code"]
    if row["level"] not in ("office", "point") or not office:
        return []
    indicator = row["indicator"]
    if indicator == "sla_compliance":
        month = month_text(row["period"])
        return [
            Drill(
                "tower.link.late_orders",
                ORDER_LIST,
                {"office": office, "month": month, "late": "1"},
            )
        ]
    if indicator in ("open_orders", "overdue_orders"):
        # The order list's "unfinished": every order not closed, as the tower counts them.
        wanted = {"office": office, "state": "unfinished"}
        if indicator == "overdue_orders":
            wanted["late"] = "1"
        return [Drill(f"tower.link.{indicator}", ORDER_LIST, wanted)]
    if indicator == "plan_coverage":
        return [Drill("tower.link.plans", PLANS)]
    if indicator.startswith("energy_"):
        return [Drill("tower.link.energy", ENERGY, {"office": office})]
    if indicator in ESCALATION_LEVELS:
        wanted = {"office": office}
        if ESCALATION_LEVELS[indicator] is not None:
            wanted["level"] = str(ESCALATION_LEVELS[indicator])
        return [Drill(f"tower.link.{indicator}", ESCALATIONS, wanted)]
    if indicator == "supplier_score":
        return [Drill("tower.link.suppliers", SUPPLIERS, {"month": month_text(row["period"])})]
    return []


def page_for(target: str, user: Principal) -> PageSpec | None:
    """The registered page at address ``target`` if ``user`` may open it (else no link)."""
    for spec in navigation.PAGES:
        if (spec.url_path or Path(spec.file).stem) == target and user.can(spec.permission):
            return spec
    return None


def indicators_in(rows: pl.DataFrame) -> list[str]:
    present = set(rows["indicator"].to_list())
    return [i for i in INDICATORS if i in present] + sorted(present - set(INDICATORS))


def node_table(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per node (city company or office) of ``rows``, the worst first: its code and
    name, how many of its figures are alerts and to watch, then per indicator its figure (and
    its change, where some node has a figure to compare with). Numbers stay numbers (the
    Excel export keeps them so); headers are translated, with units."""
    if rows.is_empty():
        return pl.DataFrame()
    indicators = indicators_in(rows)
    nodes: dict[str, dict[str, Any]] = {}
    for row in rows.iter_rows(named=True):
        node = nodes.setdefault(
            row["node_code"],
            {"code": row["node_code"], "name": row["name"], "alerts": 0, "watch": 0},
        )
        node["alerts"] += row["severity"] == 2
        node["watch"] += row["severity"] == 1
        node[row["indicator"]] = row["value"]
        node[f"{row['indicator']}:change"] = change(row)
    units = dict(zip(rows["indicator"].to_list(), rows["unit"].to_list(), strict=True))
    columns: dict[str, tuple[str, pl.DataType]] = {
        "code": (tr("tower.col.code"), pl.String()),
        "name": (tr("tower.col.name"), pl.String()),
        "alerts": (tr("tower.col.alerts"), pl.Int64()),
        "watch": (tr("tower.col.watch"), pl.Int64()),
    }
    for indicator in indicators:
        label = indicator_label(indicator)
        unit = units[indicator]
        unit_text = "%" if unit == "pct" else unit_label(unit)
        columns[indicator] = (f"{label} ({unit_text})", pl.Float64())
        if any(node.get(f"{indicator}:change") is not None for node in nodes.values()):
            moved = "pts" if unit == "pct" else "%"
            columns[f"{indicator}:change"] = (
                tr("tower.col.change", label=label) + f" ({moved})",
                pl.Float64(),
            )
    ordered = sorted(nodes.values(), key=lambda n: (-n["alerts"], -n["watch"], n["code"]))
    return pl.DataFrame(
        {header: [node.get(key) for node in ordered] for key, (header, _) in columns.items()},
        schema=dict(columns.values()),
    )
