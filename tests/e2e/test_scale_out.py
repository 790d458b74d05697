"""Two dashboard processes behind Debian's nginx, as docs/operations.md ("Beyond one machine")
sets them up: sticky by a cookie nginx hands out, sharing the login sessions (the database) and
the published warehouse (read-only files).

A page is opened as a browser opens it — a WebSocket to ``/_stcore/stream`` carrying the
browser's cookies, one script run — and read from the elements the server sends back.
"""

from __future__ import annotations

import asyncio
import http.cookies
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from sqlalchemy import select
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from operational import login_sessions
from operational.db import create_db_engine, unit_of_work
from operational.demo import DemoOptions, load_demo
from operational.i18n import t
from operational.models import User
from operational.settings import load_settings
from pipelines.run import run_pipeline
from tests.async_support import run_coroutine
from tests.db_support import migrated
from tests.e2e.conftest import AS_OF, ROOT, _free_port, _wait_until_healthy

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NODE_COOKIE = "propcloud_node"
SESSION_COOKIE = "propcloud_session"
PUBLISHED_AS_OF = "2026-11-20 09:30"  # the control tower's "data as of" (AS_OF in Shanghai)


def shows_warehouse(texts: list[str]) -> bool:
    """Whether a page showed figures of the published warehouse."""
    return any(PUBLISHED_AS_OF in text for text in texts)


SESSION_ENDED = {t("session.ended", "zh_CN"), t("session.ended", "en")}

NGINX_CONF = """\
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;

    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # Sticky sessions: a browser keeps the node cookie nginx gave it on its first request.
    map $cookie_propcloud_node $propcloud_node {{ "" $request_id; default $cookie_propcloud_node; }}
    upstream propcloud_dashboards {{
        hash $propcloud_node consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://propcloud_dashboards;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 1h;
            add_header Set-Cookie "propcloud_node=$propcloud_node; Path=/; HttpOnly; SameSite=Lax" always;
            add_header X-Propcloud-Upstream $upstream_addr always;  # for this test only
        }}
    }}
}}
"""


@dataclass
class Site:
    proxy: str  # http://127.0.0.1:<nginx port>
    backends: list[str]  # http://127.0.0.1:<streamlit port>, one per process
    database_url: str
    key: str  # PROPCLOUD_SECRET_KEY, shared by the processes


@dataclass
class Opened:
    texts: list[str]
    upstream: str | None


def _start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(NGINX).exists():
        if os.environ.get("PROPCLOUD_FORBID_SKIPS") == "1":  # CI installs it (.ci/run)
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    root = tmp_path_factory.mktemp("scale-out")
    database_url = f"sqlite:///{root / 'propcloud.db'}"
    migrated(database_url)  # as `propcloud db upgrade`, from the per-process migrated copy
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        load_demo(session, DemoOptions(offices=2, days=7, seed=7, now=AS_OF))
    engine.dispose()
    run_pipeline(database_url, root / "warehouse", AS_OF)
    key = uuid.uuid4().hex * 2
    env = {
        **os.environ,
        "PROPCLOUD_DATABASE_URL": database_url,
        "PROPCLOUD_WAREHOUSE_DIR": str(root / "warehouse"),
        "PROPCLOUD_VAR_DIR": str(root),
        "PROPCLOUD_SECRET_KEY": key,  # every process of a site shares it
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        backends = []
        for n in range(2):
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            command = [
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
                "--browser.gatherUsageStats",
                "false",
            ]
            log = root / f"streamlit-{n}.log"
            processes.append(_start(command, log, env))
            _wait_until_healthy(url, processes[-1], log)
            backends.append(url)
        port = _free_port()
        conf = root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                root=root,
                port=port,
                servers="\n".join(f"        server {b.removeprefix('http://')};" for b in backends),
            )
        )
        nginx = [NGINX, "-p", str(root), "-c", str(conf), "-e", str(root / "nginx-error.log")]
        subprocess.run([*nginx, "-t"], check=True, capture_output=True)
        processes.append(_start([*nginx, "-g", "daemon off;"], root / "nginx.out", env))
        _wait_until_healthy(f"http://127.0.0.1:{port}", processes[-1], root / "nginx.out")
        yield Site(f"http://127.0.0.1:{port}", backends, database_url, key)
    finally:
        for process in reversed(processes):
            _stop(process)


@dataclass(frozen=True)
class Login:
    session_id: int
    token: str


def log_in(site: Site, username: str) -> Login:
    """A login session of ``username``, started as the login form starts one, its nonce
    exchanged for the cookie's token as the cookie route does."""
    settings = load_settings()
    lifetime = login_sessions.Lifetime(settings.session_idle, settings.session_max_age)
    engine = create_db_engine(site.database_url)
    with unit_of_work(engine) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        started = login_sessions.start(session, site.key.encode(), user_id, lifetime)
        token = login_sessions.exchange(session, site.key.encode(), started.nonce, lifetime)
        assert token is not None
    engine.dispose()
    return Login(started.session_id, token)


def open_page(base: str, cookies: dict[str, str], page: str = "") -> Opened:
    """The texts of ``page`` opened at ``base`` by a browser holding ``cookies``."""

    async def run() -> Opened:
        ws = base.replace("http://", "ws://") + "/_stcore/stream"
        texts: list[str] = []
        async with websockets.connect(
            ws,
            subprotocols=[websockets.Subprotocol("streamlit")],
            additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            max_size=None,
            open_timeout=60,
        ) as socket:
            upstream = (
                socket.response.headers.get("X-Propcloud-Upstream") if socket.response else None
            )
            request = BackMsg()
            request.rerun_script.page_name = page
            await socket.send(request.SerializeToString())
            while True:
                message = ForwardMsg()
                message.ParseFromString(await asyncio.wait_for(socket.recv(), timeout=120))  # type: ignore[arg-type]
                kind = message.WhichOneof("type")
                if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    element = message.delta.new_element
                    which = element.WhichOneof("type")
                    if which == "metric":
                        texts.append(f"{element.metric.label}={element.metric.body}")
                    elif which in ("markdown", "heading", "alert"):
                        texts.append(getattr(element, which).body)
                    elif which == "exception":
                        raise AssertionError(element.exception.message)
                elif kind == "script_finished":
                    return Opened(texts, upstream)

    return run_coroutine(run())


def first_visit(base: str) -> dict[str, str]:
    """The cookies nginx gives a new browser on its first request (the page's HTML)."""
    with urllib.request.urlopen(base + "/", timeout=30) as response:
        assert response.status == 200
        jar = http.cookies.SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@pytest.mark.slow
def test_two_processes_share_logins_and_the_warehouse_behind_sticky_nginx(site: Site) -> None:
    login = log_in(site, "hq")

    # Each process on its own: the login restores on both from the same cookie, and both show
    # the published warehouse (the control tower's "data as of").
    for backend in site.backends:
        shown = open_page(backend, {SESSION_COOKIE: login.token})
        assert shows_warehouse(shown.texts), shown.texts

    # Through nginx: a browser's first request gives it its node; from then on every page it
    # opens is served by the same process (its downloads and uploads live in that process).
    node = first_visit(site.proxy)[NODE_COOKIE]
    cookies = {NODE_COOKIE: node, SESSION_COOKIE: login.token}
    upstreams = {open_page(site.proxy, cookies).upstream for _ in range(4)}
    assert len(upstreams) == 1 and None not in upstreams

    # Many browsers are spread over both processes.
    spread = {open_page(site.proxy, {NODE_COOKIE: uuid.uuid4().hex}).upstream for _ in range(12)}
    assert spread == {b.removeprefix("http://") for b in site.backends}

    # A logout (here: its session ended in the database) holds for every process.
    engine = create_db_engine(site.database_url)
    with unit_of_work(engine) as session:
        login_sessions.end(session, login.session_id)
    engine.dispose()
    for backend in site.backends:
        shown = open_page(backend, {SESSION_COOKIE: login.token})
        assert not shows_warehouse(shown.texts)
        assert SESSION_ENDED & set(shown.texts), shown.texts
