"""In real Chromium: a meter label's link through the login to a stored reading, on a phone; the
energy page with its charts (on the ``energy_site`` demo with 400 days of readings)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from operational.auth import system_principal
from operational.db import create_db_engine, unit_of_work
from operational.demo import DEMO_PASSWORD
from operational.services.energy import point_status

CLI = system_principal("cli")

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-own-site")]

POINT = "SH001-W-MAIN"


def open_page(browser: Browser, base_url: str, *, phone: bool) -> Page:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 1000}
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,
        locale="zh-CN",
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def log_in(page: Page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_qr_link_leads_through_the_login_to_a_stored_reading_on_a_phone(
    browser: Browser, energy_site: tuple[str, str], screenshots: Path
) -> None:
    base_url, database_url = energy_site
    page = open_page(browser, base_url, phone=True)
    try:
        page.goto(f"/reading?point={POINT}")
        log_in(page, "manager")
        expect(page.get_by_role("heading", name="抄表")).to_be_visible()
        assert page.url.endswith(f"/reading?point={POINT}")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_text(POINT).first).to_be_visible()
        expect(main.get_by_text("上次读数")).to_be_visible()

        engine = create_db_engine(database_url)
        with unit_of_work(engine) as db:
            before = point_status(db, CLI, POINT)
        assert before.last_reading is not None and before.typical_daily_use is not None
        assert before.last_read_at is not None
        days = Decimal((datetime.now(UTC) - before.last_read_at).total_seconds() / 86400)
        value = str(round(before.last_reading + before.typical_daily_use * days, 1))

        page.get_by_label("表上读数").fill(value)
        page.get_by_test_id("stMain").screenshot(path=str(screenshots / "reading_form_phone.png"))
        page.get_by_role("button", name="保存读数").click()
        expect(main.get_by_text("已保存")).to_be_visible()
        expect(main.get_by_text("m³").first).to_be_visible()
        with unit_of_work(engine) as db:
            after = point_status(db, CLI, POINT)
        engine.dispose()
        assert after.last_reading == Decimal(value)
        assert after.recent[0].source == "scan"
    finally:
        page.context.close()


def test_the_energy_page_shows_its_charts(
    browser: Browser, energy_site: tuple[str, str], screenshots: Path
) -> None:
    base_url, _ = energy_site
    page = open_page(browser, base_url, phone=False)
    try:
        page.goto("/")
        log_in(page, "hq")
        page.get_by_test_id("stSidebar").get_by_text("能耗管理").click()
        expect(page.get_by_role("heading", name="能耗管理")).to_be_visible()
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.get_by_text("每月用量 — 一应物业集团")).to_be_visible()
        expect(page.get_by_test_id("stMetric").filter(has_text="待跟进异常")).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 1500})  # the page scrolls inside
        page.wait_for_timeout(500)  # let plotly finish its transition before the picture
        page.screenshot(path=str(screenshots / "energy.png"), full_page=True)
        page.get_by_role("tab", name="损耗").click()
        expect(page.get_by_text("总表与分表").first).to_be_visible()
    finally:
        page.context.close()
