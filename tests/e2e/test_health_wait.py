"""The wait for a started server: slow answers are waited out, real failures reported with the
server's log (no browser needed)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e import conftest


@contextmanager
def health_server(slow_requests: int) -> Iterator[str]:
    """A server whose first ``slow_requests`` answers come after the client gave up."""
    gate = threading.Event()
    seen = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen[0] += 1
            if seen[0] <= slow_requests:
                gate.wait(2)  # longer than the client's timeout
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        gate.set()
        server.shutdown()
        server.server_close()


@contextmanager
def process(code: str) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "HEALTH_TIMEOUT", 0.3)


@pytest.mark.usefixtures("quick")
def test_answers_that_time_out_are_waited_out(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("starting\n")
    with health_server(slow_requests=2) as url, process("import time; time.sleep(60)") as child:
        conftest._wait_until_healthy(url, child, log)  # returns once an answer comes in time


@pytest.mark.usefixtures("quick")
def test_a_server_never_healthy_fails_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "STARTUP_SECONDS", 1)
    log = tmp_path / "server.log"
    log.write_text("stuck loading the app\n")
    with (
        health_server(slow_requests=1000) as url,
        process("import time; time.sleep(60)") as child,
        pytest.raises(RuntimeError, match="not healthy") as failure,
    ):
        conftest._wait_until_healthy(url, child, log)
    assert "TimeoutError" in str(failure.value)
    assert "stuck loading the app" in str(failure.value)


def test_a_server_that_exits_fails_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("Traceback: no module named app\n")
    with process("raise SystemExit(3)") as child:
        child.wait()
        with pytest.raises(RuntimeError, match=r"exited early \(code 3\)") as failure:
            conftest._wait_until_healthy("http://127.0.0.1:9", child, log)
    assert "no module named app" in str(failure.value)
