"""In real Chromium: Streamlit's own texts follow the user's language (the script
``dashboards/server.py`` adds to every page), and on a phone the menu closes after a choice."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboards.frontend_i18n import script_tag
from operational.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def log_in(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_role("textbox", name="用户名").fill(username)
    page.get_by_role("textbox", name="密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="运营驾驶舱")).to_be_visible()


def test_the_server_adds_the_script_to_every_page(page: Page) -> None:
    for path in ("/", "/energy", "/reading?point=SH001-W-MAIN"):
        served = page.request.get(path)
        assert served.ok and served.text().count(script_tag()) == 1, path
    texts = page.request.get("/_propcloud/frontend-texts.json").json()
    assert texts["zh_CN"]["texts"]["Drag and drop files here"] == "将文件拖放到此处"


def test_streamlits_own_texts_are_chinese_and_english_again_after_a_switch(page: Page) -> None:
    page.goto("/")
    # before login: the login page's own Streamlit texts are Chinese already
    expect(page.get_by_role("button", name="显示明文")).to_be_visible()
    log_in(page, "admin")
    page.goto("/admin_users")  # a table: its toolbar's tooltips
    table = page.get_by_test_id("stDataFrame").first
    table.hover()
    table.locator('[aria-label="下载为 CSV"]').hover()
    expect(page.get_by_test_id("stTooltipContent")).to_have_text("下载为 CSV")

    page.goto("/calendar")
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="导入").click()
    uploader = main.get_by_test_id("stFileUploaderDropzone").first
    expect(uploader.get_by_text("每个文件不超过 200MB")).to_be_visible()
    expect(uploader.get_by_role("button", name="选择文件", exact=True)).to_be_visible()
    expect(uploader.get_by_text("200MB per file")).to_have_count(0)
    toolbar = main.get_by_test_id("stElementToolbar").first  # a table's, shown on hover
    expect(toolbar.locator('[aria-label="下载为 CSV"]')).to_be_attached()
    expect(toolbar.locator('[aria-label="搜索"]')).to_be_attached()

    page.get_by_role("combobox", name="日历").click()  # the calendar's select box
    page.keyboard.type("zzzz")
    expect(page.get_by_text("无匹配结果")).to_be_visible()
    page.keyboard.press("Escape")

    sidebar = page.get_by_test_id("stSidebar")
    expect(page.locator('[aria-label="收起侧边栏"]')).to_be_attached()
    sidebar.get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Working calendar")).to_be_visible()
    main.get_by_role("tab", name="Import").click()  # translated tabs start again at the first
    expect(uploader.get_by_text("200MB per file")).to_be_visible()
    expect(uploader.get_by_role("button", name="Upload", exact=True)).to_be_visible()
    expect(toolbar.locator('[aria-label="Download as CSV"]')).to_be_attached()
    assert page.evaluate("document.documentElement.lang") == "en"

    sidebar.get_by_text("中文", exact=True).click()
    main.get_by_role("tab", name="导入").click()
    expect(uploader.get_by_text("每个文件不超过 200MB")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def test_on_a_phone_the_menu_closes_after_a_page_is_chosen(browser: Browser, app_url: str) -> None:
    context = browser.new_context(
        base_url=app_url,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        log_in(page, "manager")
        sidebar = page.get_by_test_id("stSidebar")
        page.get_by_role("button", name="展开侧边栏").click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        sidebar.get_by_test_id("stSidebarNavLink").filter(has_text="能耗管理").tap()
        expect(page.get_by_role("heading", name="能耗管理").first).to_be_visible()
        expect(sidebar).to_have_attribute("data-collapsed", "true")
        assert page.url.endswith("/energy")
        box = sidebar.bounding_box()
        assert box is None or box["x"] + box["width"] <= 0  # off the screen, the page readable
    finally:
        context.close()
