"""The owner-service pages' warehouse reads, timed over a published warehouse
(``propcloud bench tickets``, docs/benchmarks.md "Tickets").

Each call is one read a page makes when it loads: the complaint escalation board
(``/escalations``: months, the summary by level, holder and age, the first page of open
complaints and their count, the escalation trend — group-wide, for one city company and for one
office), the SLA page's ticket clocks (the day/night cells and the per-office table over the last
twelve months) and the control tower (totals, offices, what needs attention), as headquarters and
as a city company's audit would see them. Target (reported, not asserted): every query under
100 ms median.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import time_queries


class Readers:
    """Headquarters' readers (every office), a city company's (its first city) and the first
    office's code."""

    def __init__(self, warehouse_dir: Path) -> None:
        from warehouse.queries import WarehouseReader
        from warehouse.queries_tickets import TicketReader
        from warehouse.queries_tower import TowerReader
        from warehouse.scope import OfficeScope

        everything = OfficeScope.everything()
        offices = WarehouseReader(warehouse_dir, everything).org_overview()
        city = str(offices["city_code"][0])
        city_scope = OfficeScope.of(offices.filter(offices["city_code"] == city)["office_code"])
        self.city_code = city
        self.office_code = str(offices["office_code"][0])
        self.group = TicketReader(warehouse_dir, everything)
        self.city = TicketReader(warehouse_dir, city_scope)
        self.tower = TowerReader(warehouse_dir, everything)
        self.city_tower = TowerReader(warehouse_dir, city_scope)
        months = self.group.ticket_months()
        self.last_month: date | None = months[-1] if months else None
        self.first_month: date | None = months[max(0, len(months) - 12)] if months else None


def query_calls() -> dict[str, Callable[[Readers], Any]]:
    """The reads, by name: what the board, the SLA page and the tower run on a page load (a
    list of months is reported by its length)."""

    def year(r: Readers) -> dict[str, Any]:
        return {"first_month": r.first_month, "last_month": r.last_month}

    return {
        "board_months_group": lambda r: len(r.group.escalation_months()),
        "board_summary_group": lambda r: r.group.open_complaints_summary(),
        "board_count_group": lambda r: r.group.open_complaints_count(),
        "board_page_group": lambda r: r.group.open_complaints(limit=50),
        "board_trend_group": lambda r: r.group.escalation_trend(),
        "board_page_level2_group": lambda r: r.group.open_complaints(escalation_level=2, limit=50),
        "board_summary_city": lambda r: r.city.open_complaints_summary(),
        "board_page_city": lambda r: r.city.open_complaints(limit=50),
        "board_trend_city": lambda r: r.city.escalation_trend(),
        "board_page_office": lambda r: r.group.open_complaints(office_code=r.office_code, limit=50),
        "sla_ticket_months_group": lambda r: len(r.group.ticket_months()),
        "sla_ticket_cells_group_12m": lambda r: r.group.ticket_compliance_cells(**year(r)),
        "sla_ticket_table_group_12m": lambda r: r.group.ticket_compliance(**year(r)),
        "sla_ticket_cells_city_12m": lambda r: r.city.ticket_compliance_cells(**year(r)),
        "sla_ticket_cells_office_12m": lambda r: r.group.ticket_compliance_cells(
            office_code=r.office_code, **year(r)
        ),
        "tower_totals_group": lambda r: r.tower.totals(),
        "tower_offices_group": lambda r: r.tower.offices(),
        "tower_attention_group": lambda r: r.tower.attention(limit=25),
        "tower_offices_city": lambda r: r.city_tower.offices(city_code=r.city_code),
    }


def measure_queries(warehouse_dir: Path, runs: int) -> dict[str, Any]:
    """Median and p95 (ms) of each page read over the published file in ``warehouse_dir``,
    the reader's result cache cleared before every run."""
    from warehouse import queries

    readers = Readers(warehouse_dir)
    return time_queries(query_calls(), readers, queries._cached_query.cache_clear, runs)
