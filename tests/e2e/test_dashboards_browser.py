"""In real Chromium: log in to the control tower, read it in both languages, see only one's own
scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from operational.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def log_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="运营驾驶舱")).to_be_visible()


def metric(page: Page, label: str) -> str:
    """The value of the st.metric with ``label``."""
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return box.get_by_test_id("stMetricValue").inner_text()


def test_hq_sees_every_office_in_chinese_and_english(page: Page, screenshots: Path) -> None:
    log_in(page, "hq")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("数据截至 2026-11-20 09:30")).to_be_visible()
    expect(main.get_by_role("heading", name="今日概况")).to_be_visible()
    expect(main.get_by_text("一应物业集团", exact=True)).to_be_visible()
    expect(main.get_by_role("heading", name="需要关注")).to_be_visible()
    assert metric(page, "超期工单") == "0"
    tables = page.get_by_test_id("stDataFrame")
    expect(tables.first).to_be_visible()  # the city companies
    expect(main.get_by_text("BJ002 北京华庭广场管理处").first).to_be_visible()  # attention
    expect(main.get_by_role("button", name="导出 Excel").first).to_be_visible()
    page.screenshot(path=str(screenshots / "tower.png"), full_page=True)

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Control tower")).to_be_visible()
    expect(main.get_by_text("Data as of 2026-11-20 09:30")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Log out")).to_be_visible()
    assert metric(page, "Overdue orders") == "0"
    expect(page.get_by_text("运营驾驶舱")).to_have_count(0)

    sidebar.get_by_text("中文", exact=True).click()
    expect(page.get_by_role("heading", name="运营驾驶舱")).to_be_visible()
    sidebar.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("button", name="登录")).to_be_visible()


def test_an_office_manager_sees_only_their_office(page: Page) -> None:
    log_in(page, "manager")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("SH001 上海丽都公馆管理处", exact=True).first).to_be_visible()
    expect(main.get_by_role("heading", name="SH001：全部指标")).to_be_visible()
    expect(main.get_by_text("BJ001")).to_have_count(0)
    expect(main.get_by_text("SH002")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar").get_by_text("用户与角色")).to_have_count(0)
