"""In real Chromium on a phone-sized screen (390×844): the engineering supervisor opens a
nonconformity handling order against the office's engineering contract, choosing the breach
points from its deduction standard, then works it from the to-do list — handled, verified
(docs/nonconformities.md; screenshot ``nonconformity_phone.png``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.test_orders_browser import log_in, open_menu_page, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def pick(scope: Locator, label: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``label`` once the app is idle (a click
    while the previous choice still reruns the page may open nothing), and wait for its rerun."""
    page = scope.page
    box = scope.get_by_test_id("stSelectbox").filter(has_text=label)
    for _ in range(3):
        wait_for_run(page)
        box.click()
        options = page.get_by_role("option", name=option)
        try:
            options.first.wait_for(timeout=5_000)
        except PlaywrightTimeout:
            continue
        options.first.click()
        break
    expect(box.get_by_role("combobox")).to_have_value(re.compile(re.escape(option)))
    wait_for_run(page)


def test_a_handling_order_is_opened_and_worked_on_a_phone(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "engineer")
    open_menu_page(page, "不合格单据")
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="新开不合格单").click()
    wait_for_run(page)
    pick(main, "类型", "不合格处理单")
    pick(main, "专业", "工程")
    main.get_by_label("描述").fill("5号楼水泵房漏水未报修")
    pick(main, "供方合同", "HT-SH001-EN")
    # The breach points are the contract's standard (engineering: ¥100 a point at 1).
    pick(main, "违约扣分", "1 分（¥100.00）")
    wait_for_run(page)
    main.get_by_role("button", name="开具不合格单").click()
    done = main.get_by_text(re.compile(r"已开具不合格单 NCH-SH001-\d+"))
    expect(done).to_be_visible()
    found = re.search(r"NCH-SH001-\d+", done.inner_text())
    assert found
    number = found.group()

    open_menu_page(page, "我的待办")
    main.get_by_role("button", name=re.compile(number)).click()
    expect(page.get_by_role("heading", name="不合格单据")).to_be_visible()
    wait_for_run(page)
    main.get_by_label("处理情况").fill("更换水泵密封圈")
    main.get_by_role("button", name="处理完成").click()
    expect(main.get_by_text(f"{number}：处理完成 已完成。")).to_be_visible()
    page.screenshot(path=str(screenshots / "nonconformity_phone.png"), full_page=True)

    open_menu_page(page, "我的待办")
    main.get_by_role("button", name=re.compile(number)).click()
    wait_for_run(page)
    main.get_by_label("验证意见").fill("已复查，无渗漏")
    main.get_by_role("button", name="验证", exact=True).click()
    expect(main.get_by_text(f"{number}：验证 已完成。")).to_be_visible()
    expect(main.get_by_text("已验证").first).to_be_visible()
    open_menu_page(page, "我的待办")
    expect(main.get_by_role("button", name=re.compile(number))).to_have_count(0)
