"""Working calendars: the warning that a coming year has no public holidays loaded.

The ``chinese_calendar`` package knows China's holidays up to 2026 only; each later year's
official list is loaded group-wide with ``propcloud import calendar-days`` once the State Council
publishes it (each November or December, docs/operations.md). Until then that year's clocks would
count its holidays as working days — so the SLA build warns. The check is not blocking: the
figures of every year with data are right, and the build is published all the same.
"""

from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from operational.calendars import years_without_holidays
from pipelines.defs.checking import CheckOutcome, WarehouseCheck, warehouse_check
from warehouse import sla

SLA_CLOCKS = dg.AssetKey(sla.TABLE.split("."))
GROUP_ZONE = ZoneInfo("Asia/Shanghai")
"""The years are the group's (China's): the as_of's local date in Shanghai says which is now."""


@warehouse_check(SLA_CLOCKS, blocking=False)
def holidays_loaded_for_next_year(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Warns when this year or next has no public holidays in the group's calendar (the
    package's and the lists loaded with `propcloud import calendar-days`): load the State
    Council's list for that year (docs/operations.md). Does not stop the build."""
    today = sla.as_of(con).astimezone(GROUP_ZONE).date()
    holidays = [
        day
        for (day,) in con.execute(
            "select day from sla.group_days where kind = 'holiday'"
        ).fetchall()
    ]
    missing = years_without_holidays(holidays, today)
    return not missing, {
        "years_without_holidays": [str(year) for year in missing],
        "today": today.isoformat(),
        "load_with": "propcloud import calendar-days FILE (empty office_code)",
    }


calendar_checks: list[WarehouseCheck] = [holidays_loaded_for_next_year]
"""Run by the step building ``marts/sla_clocks`` (``pipelines.defs.sla``)."""
