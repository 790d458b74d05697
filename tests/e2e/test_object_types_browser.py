"""In real Chromium: the group administrator adds an object type and finds it in the tree
(screenshot ``object_types.png``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from operational.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def wait_for_run(page: Page) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def visible(locator: Locator) -> Locator:
    """The one shown: Streamlit keeps every tab's widgets in the page, hidden."""
    return locator.filter(visible=True)


def test_the_admin_adds_a_type_and_sees_it_in_the_tree(page: Page, screenshots: Path) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stMain").get_by_role("heading").first).to_be_visible()
    wait_for_run(page)
    page.get_by_test_id("stSidebarNav").get_by_text("对象类型", exact=True).click()
    expect(page.get_by_role("heading", name="对象类型与作业标准")).to_be_visible()
    wait_for_run(page)
    main = page.get_by_test_id("stMain")

    main.get_by_role("tab", name="新增类型").click()
    visible(main.get_by_test_id("stSelectbox").filter(has_text="上级类型")).click()
    page.get_by_role("option", name="工程设备 (engineering)").click()
    # With a parent chosen the page runs again and draws no discipline field: the form is filled
    # once that run has drawn it (a field filled while the form is redrawn can lose its text).
    expect(visible(main.get_by_test_id("stSelectbox").filter(has_text="专业"))).to_have_count(0)
    wait_for_run(page)
    for label, value in (
        ("类型编码", "e2e_escalator"),
        ("名称", "自动扶梯"),
        ("属性", "step_width:number:梯级宽度:mm"),
        ("作业标准（检查项）", "梯级无破损\n扶手带运行同步"),
    ):
        field = visible(main.get_by_role("textbox", name=label, exact=True))
        field.fill(value)
        expect(field).to_have_value(value)
    visible(main.get_by_role("button", name="新增类型")).click()
    expect(main.get_by_text("已新增类型 自动扶梯（e2e_escalator）。")).to_be_visible()

    main.get_by_role("tab", name="类型树").click()
    main.get_by_text("工程 · 5 个类型").click()  # open the engineering branch
    expect(main.get_by_text("工程设备 / 自动扶梯", exact=True)).to_be_visible()
    expect(main.get_by_text("e2e_escalator", exact=True)).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="梯级宽度")).to_be_visible()
    expect(main.get_by_role("listitem").filter(has_text="扶手带运行同步")).to_be_visible()
    page.screenshot(path=str(screenshots / "object_types.png"), full_page=True)
