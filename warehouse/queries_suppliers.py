"""The typed read API of supplier performance (供方绩效): ``marts.contract_scores`` in, polars out.

A :class:`SupplierReader` is bound to the offices its user may see (``warehouse.scope``). The
ranking is computed in the query from the contracts of those offices only, with the rule of
``marts.supplier_ranking`` (``docs/supplier-marts.md``): a city company's user ranks suppliers
by their work for that city; over every office it is the mart itself. Every query is a file of
``warehouse/sql/queries/supplier_*.sql``. Money, points and scores are ``Decimal`` columns.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from warehouse.queries import ParamValue, WarehouseReader

PERIOD_TYPES = ("month", "year")
MONEY: pl.DataType = pl.Decimal(18, 2)
RANKING_SCHEMA = pl.Schema(
    {
        "period_type": pl.String(),
        "period": pl.String(),
        "discipline": pl.String(),
        "supplier_code": pl.String(),
        "supplier_name": pl.String(),
        "contracts": pl.Int64(),
        "score": MONEY,
        "nonconformities": pl.Int64(),
        "breach_points": pl.Int64(),
        "deduction_amount": MONEY,
        "rank": pl.Int64(),
    }
)
PERIODS_SCHEMA = pl.Schema({"month": pl.Date(), "discipline": pl.String()})
CONTRACT_MONTHS_SCHEMA = pl.Schema(
    {
        "contract_no": pl.String(),
        "supplier_code": pl.String(),
        "supplier_name": pl.String(),
        "office_code": pl.String(),
        "office_name": pl.String(),
        "discipline": pl.String(),
        "month": pl.Date(),
        "nonconformities": pl.Int64(),
        "breach_points": pl.Int64(),
        "deduction_amount": MONEY,
        "manual_points": MONEY,
        "score": MONEY,
    }
)
EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 1)


class SupplierReader(WarehouseReader):
    """Supplier scores and rankings within the reader's scope."""

    def periods(self) -> pl.DataFrame:
        """month (first day), discipline: every month and discipline in which a contract of
        an office in scope is scored, newest month first."""
        return self.frame("supplier_periods", schema=PERIODS_SCHEMA)

    def ranking(
        self,
        *,
        period_type: str = "month",
        period: str | None = None,
        discipline: str | None = None,
    ) -> pl.DataFrame:
        """The ranking of :data:`RANKING_SCHEMA` per ``period_type`` (``month``: periods
        ``YYYY-MM``; ``year``: ``YYYY``) and discipline, over the contracts of the offices in
        scope; of one ``period`` and one ``discipline`` if given. Best first."""
        if period_type not in PERIOD_TYPES:
            raise ValueError(f"period_type must be one of {PERIOD_TYPES}")
        params: dict[str, ParamValue] = {
            "period_type": period_type,
            "period": period or "",
            "discipline": discipline or "",
        }
        return self.frame("supplier_ranking", params, RANKING_SCHEMA)

    def contract_months(
        self,
        *,
        supplier_code: str | None = None,
        contract_no: str | None = None,
        discipline: str | None = None,
        office_code: str | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> pl.DataFrame:
        """The scored months (:data:`CONTRACT_MONTHS_SCHEMA`) of the contracts of the offices in
        scope — of one supplier, contract, discipline or office if given — whose month (its
        first day) lies in ``start`` … ``end``; by contract, newest month first."""
        params: dict[str, ParamValue] = {
            "supplier_code": supplier_code or "",
            "contract_no": contract_no or "",
            "discipline": discipline or "",
            "office_code": office_code or "",
            "start": start or EARLIEST,
            "end": end or LATEST,
        }
        return self.frame("supplier_contract_months", params, CONTRACT_MONTHS_SCHEMA)
