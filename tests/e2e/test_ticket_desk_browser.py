"""In real Chromium on a phone-sized screen (390×844): the call centre finds the caller by house,
records an urgent in-home repair and opens the new ticket's page from the intake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_orders_browser import choose, log_in, open_menu_page, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_manager_takes_a_repair_call_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "manager")
    open_menu_page(page, "来电受理")
    main = page.get_by_test_id("stMain")
    main.get_by_label(re.compile("^来电人：电话号码")).fill("1-1-101")
    main.get_by_label(re.compile("^来电人：电话号码")).press("Enter")
    wait_for_run(page)
    expect(main.get_by_text(re.compile(r"^找到 \d+ 条$"))).to_be_visible()
    ask = main.get_by_text(re.compile("请选择来电人及来电所涉的房产"))
    expect(ask).to_be_visible()  # several occupants: none is assumed to be the caller
    choose(main, "来电人", "(业主) · 1-1-101")  # the owner of the house, among its occupants
    wait_for_run(page)
    expect(ask).to_have_count(0)
    expect(main.get_by_label("来电人姓名")).to_have_count(0)  # a known caller: nothing to type
    main.get_by_test_id("stRadio").filter(has_text="类型").get_by_text("报修", exact=True).click()
    wait_for_run(page)
    main.get_by_label("主题").fill("卫生间下水道堵塞")
    main.get_by_test_id("stRadio").filter(has_text="报修位置").get_by_text("户内").click()
    wait_for_run(page)
    urgency = main.get_by_test_id("stRadio").filter(has_text="紧急程度")
    urgency.get_by_text("紧急（30 分钟内到场）").click()
    wait_for_run(page)
    main.get_by_role("button", name="登记工单").click()
    done = main.get_by_text(re.compile(r"工单 BX-SH001-\d+ 已登记"))
    expect(done).to_be_visible()
    found = re.search(r"BX-SH001-\d+", done.inner_text())
    assert found
    number = found.group()
    expect(main.get_by_label("主题")).to_have_value("")  # cleared for the next call
    page.screenshot(path=str(screenshots / "ticket_intake_phone.png"), full_page=True)
    main.get_by_role("link", name=re.compile(f"打开工单 {number}")).click()
    expect(page.get_by_role("heading", name=f"客服工单 {number}")).to_be_visible()
    wait_for_run(page)
    expect(main.get_by_text("卫生间下水道堵塞")).to_be_visible()
    expect(main.get_by_role("button", name="派单")).to_be_visible()
