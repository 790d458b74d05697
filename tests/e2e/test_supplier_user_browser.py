"""In real Chromium on a phone-sized screen (390×844): the demo's supplier user logs in, finds
only its own work in the menu, opens its to-do list — the order dispatched to it and its
supplier's open nonconformity — and reports the order done through the order's steps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_orders_browser import log_in, open_menu_page, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_supplier_user_works_its_todo_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "supplier")
    wait_for_run(page)
    page.get_by_test_id("stExpandSidebarButton").click()
    menu = page.get_by_test_id("stSidebarNav")
    expect(menu.get_by_text("我的供方待办", exact=True)).to_be_visible()
    for elsewhere in ("运营驾驶舱", "能耗管理", "审计日志", "客户查询"):
        expect(menu.get_by_text(elsewhere, exact=True)).to_have_count(0)
    page.get_by_test_id("stSidebarCollapseButton").locator("button").click()

    open_menu_page(page, "我的供方待办")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("NC-SH001-CL-OPEN")).to_be_visible()
    order = main.get_by_role("button", name=re.compile(r"CM-SH001-\d+"))
    expect(order).to_have_count(1)
    found = re.search(r"CM-SH001-\d+", order.inner_text())
    assert found
    number = found.group()
    page.screenshot(path=str(screenshots / "supplier_todo_phone.png"), full_page=True)

    order.click()
    expect(page.get_by_role("heading", name="工单")).to_be_visible()
    wait_for_run(page)
    main.get_by_label("处理情况").fill("地面已清洁")
    main.get_by_role("button", name="处理完成").click()
    expect(main.get_by_text(f"{number} 已处理完毕，等待验收。")).to_be_visible()

    open_menu_page(page, "我的供方待办")
    expect(main.get_by_text("没有等待您处理的工单。")).to_be_visible()
