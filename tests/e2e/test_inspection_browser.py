"""In real Chromium on a phone-sized screen (390×844): the engineer opens their inspection order,
starts it, scores every item of the route (one below its pass mark), is refused at submit, opens
the nonconformity offered right there and submits (screenshot ``inspection_phone.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_orders_browser import choose, log_in, open_menu_page, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_engineer_scores_an_inspection_order_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "engineer")
    open_menu_page(page, "检查")
    main = page.get_by_test_id("stMain")
    choose(main, "检查工单", "IO-SH001-")
    wait_for_run(page)
    main.get_by_role("button", name="开始").click()
    expect(main.get_by_text(re.compile(r"IO-SH001-\d+ 已开始"))).to_be_visible()
    wait_for_run(page)
    steps = main.get_by_test_id("stExpander")
    count = steps.count()
    assert count == 3  # the demo route: two objects and the lobby
    failed_once = False
    for n in range(count):
        step = steps.nth(n)
        step.locator("summary").click()
        wait_for_run(page)
        saves = step.get_by_role("button", name="保存评分")
        for i in range(saves.count()):
            box = step.get_by_test_id("stNumberInput").nth(i).locator("input")
            # the last step's last item fails (below any pass mark of the demo), the rest score full
            last = n == count - 1 and i == saves.count() - 1
            label = step.get_by_test_id("stNumberInput").nth(i).inner_text()
            top = re.search(r"0–(\d+)", label)
            assert top, label
            box.fill("0" if last else top.group(1))
            failed_once = failed_once or last
            unscored = step.get_by_text(re.compile(r"得分 — /"))
            before = unscored.count()
            saves.nth(i).click()
            wait_for_run(page)
            if unscored.count() == before:  # a tap that landed while the page still reran
                saves.nth(i).click()
                wait_for_run(page)
            expect(unscored).to_have_count(before - 1)
    assert failed_once
    main.get_by_role("button", name="提交检查").click()
    wait_for_run(page)
    expect(main.get_by_text(re.compile("提交前请为其开具不合格单")).first).to_be_visible()
    offered = main.get_by_test_id("stForm").filter(has_text="开具不合格单").last
    offered.get_by_label("不合格情况").fill("大堂入口地面有积水")
    offered.get_by_role("button", name="开具不合格单").click()
    expect(main.get_by_text(re.compile(r"不合格单 NC[NHP]-SH001-\d+ 已开具"))).to_be_visible()
    wait_for_run(page)
    main.get_by_role("button", name="提交检查").click()
    expect(main.get_by_text(re.compile(r"IO-SH001-\d+ 已提交"))).to_be_visible()
    page.screenshot(path=str(screenshots / "inspection_phone.png"), full_page=True)
