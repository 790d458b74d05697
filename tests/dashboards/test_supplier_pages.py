"""The supplier pages on the demo site: the ranking (month or year, discipline, the drill into a
supplier's contracts and a contract's month, the deduction statement as real XLSX and PDF), a
city user's ranking of its own offices, and the office's monthly evaluation form (refused with
every problem at once and what was typed kept, then accepted, stored and audited)."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from openpyxl import load_workbook
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from operational.auth import Grant, Principal
from operational.models import AuditEntry, Role, ScopeLevel, SupplierContract, SupplierScoreEntry

if TYPE_CHECKING:
    from conftest import Dashboard

    MakeDashboard = Callable[..., Dashboard]
    Downloads = Callable[[AppTest, str], bytes]

VIEWS = Path(__file__).resolve().parents[2] / "dashboards" / "views"
RANKING = "views/supplier_ranking.py"
EVALUATION = "views/supplier_evaluation.py"


def open_page(dashboard: MakeDashboard, username: str, page: str) -> tuple[AppTest, Dashboard]:
    dash = dashboard()
    dash.app.run()
    dash.log_in(username)
    app = dash.app.switch_page(page).run()
    assert not app.exception
    return app, dash


def test_hq_ranks_suppliers_and_drills_into_a_contracts_month(
    dashboard: MakeDashboard, downloads: Downloads
) -> None:
    app, _ = open_page(dashboard, "hq", RANKING)
    assert app.title[0].value == "供方排名"
    assert app.selectbox(key="supplier_period").value == "2026-11"  # the newest month
    assert app.selectbox(key="supplier_discipline").value == "cleaning"
    ranking = app.dataframe[0].value
    assert list(ranking.columns)[:3] == ["排名", "供方编码", "供方"]
    assert ranking["排名"].iloc[0] == 1
    assert set(ranking["供方编码"]) <= {"SUP-CL01", "SUP-CL02", "SUP-CL03"}
    assert list(ranking["合同数"]) and sum(ranking["合同数"]) == 4  # one per office
    export = pl.read_excel(io.BytesIO(downloads(app, "supplier_ranking_excel")))
    assert export["得分"].dtype.is_numeric() and export["扣款金额（元）"].dtype.is_numeric()
    # the year, and another discipline
    app.selectbox(key="supplier_period_type").set_value("year").run()
    assert app.selectbox(key="supplier_period").value == "2026"
    app.selectbox(key="supplier_discipline").set_value("security").run()
    assert not app.exception
    assert set(app.dataframe[0].value["供方编码"]) <= {"SUP-SE01", "SUP-SE02", "SUP-SE03"}
    # drill: a supplier's contracts, then one contract's month with its nonconformities
    supplier = app.selectbox(key="supplier_drill_supplier").value
    contracts = app.dataframe[1].value
    assert set(contracts["合同"]) and all(str(c).startswith("HT-") for c in contracts["合同"])
    contract = app.selectbox(key="supplier_drill_contract").value
    assert contract in set(contracts["合同"])
    assert supplier
    month = app.selectbox(key="supplier_drill_month").value
    assert app.metric[0].label == "得分"
    history = app.dataframe[2].value  # every month the contract scores, newest first
    assert f"{month:%Y-%m}" in set(history["月份"]) and list(history["月份"]) == sorted(
        history["月份"], reverse=True
    )
    nonconformities = app.dataframe[3].value
    assert list(nonconformities.columns)[:2] == ["不合格单号", "类型"]
    statement = downloads(app, "supplier_statement_excel")
    sheet = load_workbook(io.BytesIO(statement)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "供方扣款单"
    assert ("合同", contract) in [(r[0], r[1]) for r in values]
    assert ("月份", f"{month:%Y-%m}") in [(r[0], r[1]) for r in values]
    totals = {r[0]: r[1] for r in values if r[0] in ("违约扣分", "扣款金额（元）", "得分")}
    assert isinstance(totals["扣款金额（元）"], int | float)  # a number, not text
    assert isinstance(totals["得分"], int | float)
    pdf = downloads(app, "supplier_statement_pdf")
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf


def test_a_city_user_ranks_the_contracts_of_its_offices(dashboard: MakeDashboard) -> None:
    app, _ = open_page(dashboard, "city.audit", RANKING)
    ranking = app.dataframe[0].value
    assert sum(ranking["合同数"]) == 2  # SH001's and SH002's cleaning contracts only
    contracts = app.dataframe[1].value
    assert {str(c)[3:8] for c in contracts["合同"]} <= {"SH001", "SH002"}
    options = app.selectbox(key="supplier_drill_contract").options
    assert options and all(o.startswith(("HT-SH001", "HT-SH002")) for o in options)


def test_the_office_evaluates_a_contracts_month(dashboard: MakeDashboard) -> None:
    app, dash = open_page(dashboard, "manager", EVALUATION)
    assert app.title[0].value == "供方月度评价"
    options = app.selectbox(key="supplier_eval_contract").options
    assert options and all(o.startswith("HT-SH001-") for o in options)
    app.selectbox(key="supplier_eval_contract").set_value("HT-SH001-CL").run()
    month = app.selectbox(key="supplier_eval_month").value
    # refused: every problem at once, what was typed kept, nothing written
    app.text_input(key="supplier_eval_staffing").input("很多")
    app.text_input(key="supplier_eval_training").input("1.555")
    app.text_input(key="supplier_eval_tools").input("-0.5")
    app.button(key="supplier_eval_submit").click().run()
    assert not app.exception
    [error] = app.error
    assert "缺编：不是数字。" in error.value and "培训：最多两位小数。" in error.value
    assert app.text_input(key="supplier_eval_staffing").value == "很多"
    assert app.text_input(key="supplier_eval_tools").value == "-0.5"
    with dash.engine.connect() as con:
        contract_id = con.scalar(
            select(SupplierContract.id).where(SupplierContract.contract_no == "HT-SH001-CL")
        )
        before = con.execute(
            select(SupplierScoreEntry.item, SupplierScoreEntry.points).where(
                SupplierScoreEntry.contract_id == contract_id,
                SupplierScoreEntry.month == month,
            )
        ).all()
    # accepted
    app.text_input(key="supplier_eval_staffing").input("-2")
    app.text_input(key="supplier_eval_training").input("+1")
    app.text_input(key="supplier_eval_other").input("")
    app.button(key="supplier_eval_submit").click().run()
    assert not app.exception and not app.error
    assert "已保存合同 HT-SH001-CL" in app.success[0].value
    with dash.engine.connect() as con:
        stored = dict(
            con.execute(
                select(SupplierScoreEntry.item, SupplierScoreEntry.points).where(
                    SupplierScoreEntry.contract_id == contract_id,
                    SupplierScoreEntry.month == month,
                )
            ).all()
        )
        audited = con.scalar(
            select(AuditEntry.actor).where(
                AuditEntry.entity == "supplier_evaluation",
                AuditEntry.entity_key == f"HT-SH001-CL/{month:%Y-%m}",
            )
        )
    assert stored == {
        "缺编 staffing shortfall": Decimal("-2.00"),
        "培训 training": Decimal("1.00"),
        "工具物料 tools and materials": Decimal("-0.50"),
    }, before
    assert audited == "manager"
    # the form shows what is stored now, and the score counts it
    assert app.text_input(key="supplier_eval_training").value == "+1.00"
    score = next(m for m in app.metric if m.label == "管理处评分")
    assert score.value == "-1.50"


def test_a_supervisor_may_rank_but_not_evaluate(dashboard: MakeDashboard) -> None:
    """The engineering supervisor's menu has the ranking, not the form; run directly, the form
    refuses them itself."""
    dash = dashboard()
    dash.app.run()
    dash.log_in("engineer")
    app = dash.app.switch_page(RANKING).run()
    assert not app.exception and app.title[0].value == "供方排名"
    page = AppTest.from_file(str(VIEWS / "supplier_evaluation.py"), default_timeout=30)
    page.session_state["principal"] = Principal(
        99,
        "engineer",
        "工程主管",
        "zh_CN",
        (Grant(Role.ENGINEERING_SUPERVISOR, ScopeLevel.OFFICE, "SH001", frozenset({"SH001"})),),
    )
    page.run()
    assert [e.value for e in page.error] == ["您的角色无权执行此操作。"]
    assert not page.text_input
