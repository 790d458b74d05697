"""In real Chromium: an engineer works a corrective order end to end on a phone-sized screen,
through the to-do list; hq reads the SLA heat-maps (screenshot ``sla.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from operational.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def log_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stMain").get_by_role("heading").first).to_be_visible()


def wait_for_run(page: Page) -> None:
    """Wait until the app's script run has finished (a click during a rerun may be lost)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def open_menu_page(page: Page, title: str) -> None:
    """Open a page from the menu (on a narrow screen the sidebar opens first)."""
    wait_for_run(page)
    narrow = page.viewport_size is not None and page.viewport_size["width"] < 700
    if narrow:
        page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    wait_for_run(page)
    collapse = page.get_by_test_id("stSidebarCollapseButton")
    if narrow and collapse.is_visible():
        collapse.locator("button").click()


def choose(scope: Locator, label: str, option: str) -> None:
    scope.get_by_test_id("stSelectbox").filter(has_text=label).click()
    scope.page.get_by_role("option", name=option).first.click()


def test_an_engineer_raises_assigns_processes_and_verifies_on_a_phone(
    page: Page, screenshots: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "engineer")
    open_menu_page(page, "工单")
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="新建整改工单").click()
    main.get_by_label("问题").fill("3号电梯门反复开关")
    choose(main, "责任人", "(engineer)")
    main.get_by_role("button", name="提交工单").click()
    done = main.get_by_text(re.compile(r"已新建整改工单 CM-SH001-\d+"))
    expect(done).to_be_visible()
    found = re.search(r"CM-SH001-\d+", done.inner_text())
    assert found
    number = found.group()

    main.get_by_role("tab", name="打开工单").click()
    expect(main.get_by_text(f"{number} · 3号电梯门反复开关")).to_be_visible()
    choose(main, "处理人", "(engineer)")
    main.get_by_role("button", name="派工").click()
    expect(main.get_by_text(f"{number} 已派给 engineer。")).to_be_visible()

    open_menu_page(page, "我的待办")
    main.get_by_role("button", name=re.compile(number)).click()
    expect(page.get_by_role("heading", name="工单")).to_be_visible()
    wait_for_run(page)
    main.get_by_label("处理情况").fill("调整门机皮带")
    main.get_by_role("button", name="处理完成").click()
    expect(main.get_by_text(f"{number} 已处理完毕，等待验收。")).to_be_visible()
    page.screenshot(path=str(screenshots / "order_phone.png"), full_page=True)

    open_menu_page(page, "我的待办")
    main.get_by_role("button", name=re.compile(number)).click()
    expect(main.get_by_text(": 已处理")).to_be_visible()
    wait_for_run(page)
    main.get_by_role("button", name="验证").click()
    expect(main.get_by_text(f"{number} 已验收并关闭。")).to_be_visible()
    open_menu_page(page, "我的待办")
    expect(main.get_by_role("button", name=re.compile(number))).to_have_count(0)


def test_hq_reads_the_sla_heat_map(page: Page, screenshots: Path) -> None:
    log_in(page, "hq")
    open_menu_page(page, "工单时效达标率")
    main = page.get_by_test_id("stMain")
    expect(main.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    charts = main.locator(".js-plotly-plot")
    expect(charts.first).to_contain_text("北京城市公司")  # city companies first
    expect(charts.nth(1)).to_contain_text("SH002")  # then the offices of the worst one
    expect(main.get_by_text("超时工单", exact=True)).to_be_visible()
    expect(main.get_by_role("button", name="导出 Excel").first).to_be_visible()
    page.screenshot(path=str(screenshots / "sla.png"), full_page=True)
