"""`streamlit run dashboards/server.py` (the app and its login-cookie route) against a demo site,
driven by Debian's Chromium.

The server and the browser are session-scoped: every browser test on the shared demo
(``app_url``) must carry ``@pytest.mark.xdist_group("browser")`` so that ``pytest -n 2 --dist
loadgroup`` runs them all in one worker, which starts one server. The two modules serving a site
of their own (the energy pages' 400 days, the escalation board's worked tickets) are the group
``browser-own-site``: the other worker can take them, so the two slow site builds do not queue
behind each other. Browsers are never downloaded: Playwright drives ``/usr/bin/chromium``.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from pipelines.run import run_pipeline
from tests.db_support import migrated

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AS_OF = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
STARTUP_SECONDS = 180  # generous: at load average 7 on 2 cores streamlit starts slowly
HEALTH_TIMEOUT = 5  # seconds one health request may take before it is tried again
# Pages render plotly charts after the script run; on a loaded 2-core machine that can take
# longer than Playwright's default 5 s, so assertions wait up to 30 s (they pass as soon as met).
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the health endpoint until it answers 200. Fails, with the server's log, if the server
    exits or is still not healthy after ``STARTUP_SECONDS``.

    While streamlit starts, a request may be refused (not listening yet), time out (accepted but
    not answered in time: ``TimeoutError``, common on a loaded 2-core machine), be cut short or
    get a 503: all mean "not yet", so polling goes on until the deadline.
    """
    deadline = time.monotonic() + STARTUP_SECONDS
    last = "no answer yet"
    while True:
        if server.poll() is not None:
            raise RuntimeError(
                f"streamlit exited early (code {server.returncode}):\n"
                f"{log.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(
                f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT
            ) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as error:  # URLError, TimeoutError, ...
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"streamlit not healthy after {STARTUP_SECONDS}s (last answer: {last}):\n"
                f"{log.read_text(errors='replace')}"
            )
        time.sleep(0.5)  # polling the health endpoint, not waiting for the UI


@contextmanager
def served_demo(root: Path, days: int, *, tickets: bool = True) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of ``streamlit run dashboards/app.py`` over a demo group of
    four offices with ``days`` of history and its published warehouse, stopped afterwards
    (``tickets=False``: without the demo's tickets, for a test that works its own)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    database_url = f"sqlite:///{root / 'propcloud.db'}"
    migrated(database_url)  # as `propcloud db upgrade`, from the per-process migrated copy
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        load_demo(session, DemoOptions(offices=4, days=days, seed=7, now=AS_OF, tickets=tickets))
    engine.dispose()
    warehouse_dir = root / "warehouse"
    run_pipeline(database_url, warehouse_dir, AS_OF)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PROPCLOUD_DATABASE_URL": database_url,
        "PROPCLOUD_WAREHOUSE_DIR": str(warehouse_dir),
    }
    log = root / "streamlit.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboards" / "server.py"),
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
        _wait_until_healthy(url, server, log)
        yield url, database_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running app over a demo group of four offices and a week of data."""
    with served_demo(tmp_path_factory.mktemp("served"), days=7) as (url, _):
        yield url


@pytest.fixture(scope="session")
def energy_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of an app over four offices with 400 days of readings: the
    energy pages need history to tell their story."""
    with served_demo(tmp_path_factory.mktemp("energy-served"), days=400) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    """A fresh browser session (its own cookies and Streamlit session) on the app."""
    context = browser.new_context(
        base_url=app_url, viewport={"width": 1280, "height": 1000}, locale="zh-CN"
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where browser tests save screenshots: ``PROPCLOUD_SCREENSHOT_DIR`` (``make screenshots``
    points it at docs/img), else a temporary folder so a test run leaves the tree clean."""
    chosen = os.environ.get("PROPCLOUD_SCREENSHOT_DIR")
    directory = Path(chosen) if chosen else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory
