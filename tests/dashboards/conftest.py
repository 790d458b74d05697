"""A real demo site for the dashboard tests: an operational SQLite file and a published warehouse.

The site is built once per test session (per xdist worker). Each test gets its own copy of the
operational database, so a test that adds users or fails logins does not disturb the others; the
published warehouse is only ever read, so it is shared.
"""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import streamlit.testing.v1.app_test as app_test
from sqlalchemy import Engine, select
from streamlit.components.v2 import manifest_scanner
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from operational.db import create_db_engine, unit_of_work
from operational.demo import DEMO_PASSWORD, DemoOptions, load_demo
from operational.models import User
from pipelines.run import run_pipeline
from tests.db_support import migrated
from tests.ticket_support import work_tickets

# Every new AppTest looks for installed Streamlit components by parsing the metadata of every
# installed distribution (streamlit.components.v2.manifest_scanner): about 0.3 s of CPU per app
# session, and these tests open hundreds. The installed packages do not change while the tests
# run, so this process looks once.
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
AS_OF = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
OFFICES = 4  # two city companies (SH, BJ) of two offices each; the manager runs SH001


@dataclass(frozen=True)
class Site:
    database: Path
    warehouse_dir: Path


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    database = root / "propcloud.db"
    url = f"sqlite:///{database}"
    migrated(url)
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        # Without the demo's tickets: the ticket tests count the ones ``ticket_site`` works by hand.
        load_demo(session, DemoOptions(offices=OFFICES, days=7, seed=7, now=AS_OF, tickets=False))
    engine.dispose()
    warehouse_dir = root / "warehouse"
    run_pipeline(url, warehouse_dir, AS_OF)
    return Site(database, warehouse_dir)


@dataclass
class Dashboard:
    """The app under test with its own database copy; ``engine`` reads what the app wrote."""

    app: AppTest
    engine: Engine

    def log_in(self, username: str, password: str = DEMO_PASSWORD) -> AppTest:
        """Fill in and submit the login form, as a person would."""
        self.app.text_input(key="login_username").input(username)
        self.app.text_input(key="login_password").input(password)
        return self.app.button(key="login_submit").click().run()

    def user(self, username: str) -> User:
        with unit_of_work(self.engine) as session:
            return session.scalars(select(User).where(User.username == username)).one()


@pytest.fixture
def dashboard(
    demo_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Dashboard]]:
    """Make a fresh app session; ``warehouse_dir`` may point it at another warehouse."""
    engines: list[Engine] = []

    def make(warehouse_dir: Path | None = None) -> Dashboard:
        database = tmp_path / "propcloud.db"
        if not database.exists():
            shutil.copyfile(demo_site.database, database)
        url = f"sqlite:///{database}"
        monkeypatch.setenv("PROPCLOUD_DATABASE_URL", url)
        monkeypatch.setenv("PROPCLOUD_WAREHOUSE_DIR", str(warehouse_dir or demo_site.warehouse_dir))
        engines.append(create_db_engine(url))
        return Dashboard(AppTest.from_file(str(APP), default_timeout=30), engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Callable[[AppTest, str], bytes]:
    """What a page's download button (by its key) hands over when clicked: the bytes it was
    given, or those its function builds.

    A button whose data is a function (a paged list's export of every row) builds its file only
    on the click, which AppTest cannot make; its media file manager keeps the function, so this
    calls it as the click would."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)

    def fetch(app: AppTest, key: str) -> bytes:
        [button] = [b for b in app.download_button if b.key == key]
        file_id = button.proto.deferred_file_id
        if not file_id:  # bytes handed over when the page ran
            stored = managers[-1]._storage.get_file(button.proto.url.rsplit("/", 1)[1])  # type: ignore[attr-defined]
            return bytes(stored.content)
        for manager in reversed(managers):
            deferred = manager._deferred_callables.get(file_id)
            if deferred is not None:
                data = deferred["callable"]()
                assert isinstance(data, bytes)
                return data
        raise AssertionError(f"{key} has no deferred download")

    return fetch


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """What a reader sees of a Markdown element's text: the backslash escapes that
    ``dashboards.text.md`` puts before punctuation in user text do not show."""
    return _ESCAPED.sub(r"\1", markdown)


# ---------------------------------------------------------------- tickets (the escalation board)


@pytest.fixture(scope="session")
def ticket_site(demo_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The demo site with tickets worked live (``tests.ticket_support.work_tickets``), built
    at AS_OF."""
    root = tmp_path_factory.mktemp("tickets_site")
    database = root / "propcloud.db"
    shutil.copyfile(demo_site.database, database)
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    with unit_of_work(engine) as session:
        work_tickets(session)
    engine.dispose()
    warehouse_dir = root / "warehouse"
    run_pipeline(url, warehouse_dir, AS_OF)
    return Site(database, warehouse_dir)
