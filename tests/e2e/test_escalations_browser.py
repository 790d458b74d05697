"""In real Chromium: the city company's internal-audit manager opens the complaint escalation
board from the menu, sees only the city's complaints, narrows them by level through the
address, and each complaint links to its timeline on the ticket page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from operational.db import create_db_engine, unit_of_work
from operational.demo import DEMO_PASSWORD
from pipelines.run import run_pipeline
from tests.e2e.conftest import AS_OF, served_demo
from tests.ticket_support import work_tickets

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-own-site")]


@pytest.fixture(scope="module")
def ticket_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the demo with tickets worked live, the warehouse rebuilt with them (the
    server reads each newly published version)."""
    root = tmp_path_factory.mktemp("tickets-served")
    with served_demo(root, days=7, tickets=False) as (url, database_url):
        engine = create_db_engine(database_url)
        with unit_of_work(engine) as session:
            work_tickets(session)
        engine.dispose()
        run_pipeline(database_url, root / "warehouse", AS_OF)
        yield url


@pytest.fixture
def board_page(browser: Browser, ticket_app: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=ticket_app, viewport={"width": 1280, "height": 1000}, locale="zh-CN"
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


def metric(page: Page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return box.get_by_test_id("stMetricValue").inner_text()


def test_the_city_auditor_works_the_board(board_page: Page, screenshots: Path) -> None:
    page = board_page
    page.goto("/")
    page.get_by_label("用户名").fill("city.audit")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="运营驾驶舱")).to_be_visible()

    page.get_by_test_id("stSidebar").get_by_text("投诉升级", exact=True).click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="投诉升级看板")).to_be_visible()
    assert metric(page, "未结投诉") == "2"  # SH001's two; Beijing's are not the city's
    assert metric(page, "2 级（集团内审）") == "1"
    expect(main.get_by_text("BJ001")).to_have_count(0)
    expect(
        main.get_by_role("heading", name="各管理处每月升级数")
        .or_(main.get_by_text("各管理处每月升级数"))
        .first
    ).to_be_visible()
    expect(main.get_by_role("button", name="导出 Excel").first).to_be_visible()
    page.screenshot(path=str(screenshots / "escalations.png"), full_page=True)

    # the control tower's link: level 2 of the city's offices, by address
    page.goto("/escalations?level=2")
    expect(main.get_by_role("heading", name="投诉升级看板")).to_be_visible()
    expect(page.get_by_role("combobox", name="级别")).to_be_visible()
    expect(page.get_by_text("2 级（集团内审）").first).to_be_visible()
    expect(
        page.get_by_test_id("stMetric").filter(has_text="未结投诉").get_by_test_id("stMetricValue")
    ).to_have_text("1")  # the level-2 complaint only
    expect(main.get_by_test_id("stDataFrame").first).to_be_visible()
    timeline = main.get_by_role("link", name="查看处理时间线")
    expect(timeline).to_have_attribute("href", re.compile(r"/ticket\?ticket=TS-SH001-\d+$"))
