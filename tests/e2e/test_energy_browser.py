"""In real Chromium: a meter label's link through the login to a stored reading, on a phone; the
energy page with its charts. Takes the screenshots of docs/dashboards.md.

The energy page needs history to tell its story, so this module serves its own demo group of
400 days (the shared ``app_url`` site has a week); the browser is the shared one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from operational.db import create_db_engine, unit_of_work, upgrade
from operational.demo import DEMO_PASSWORD, DemoOptions, load_demo
from operational.services.energy import point_status
from pipelines.run import run_pipeline

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
POINT = "SH001-W-MAIN"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def energy_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of an app over four offices with 400 days of readings."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed")
    root = tmp_path_factory.mktemp("energy-served")
    database_url = f"sqlite:///{root / 'propcloud.db'}"
    upgrade(database_url)
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        load_demo(session, DemoOptions(offices=4, days=400, seed=7, now=AS_OF))
    engine.dispose()
    run_pipeline(database_url, root / "warehouse", AS_OF)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PROPCLOUD_DATABASE_URL": database_url,
        "PROPCLOUD_WAREHOUSE_DIR": str(root / "warehouse"),
    }
    log = root / "streamlit.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboards" / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
                "--client.toolbarMode",
                "viewer",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)  # polling the health endpoint, not waiting for the UI
        yield url, database_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


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
            before = point_status(db, POINT)
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
            after = point_status(db, POINT)
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
        expect(page.get_by_text("每月用量 — 一应物业集团")).to_be_visible()
        expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.get_by_test_id("stMetric").filter(has_text="待跟进异常")).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 1500})  # the page scrolls inside
        page.wait_for_timeout(500)  # let plotly finish its transition before the picture
        page.screenshot(path=str(screenshots / "energy.png"), full_page=True)
        page.get_by_role("tab", name="损耗").click()
        expect(page.get_by_text("总表与分表").first).to_be_visible()
    finally:
        page.context.close()
