"""`propcloud serve` brings up the dashboards and the Dagster UI with its daemon; the UI, which
has no login, listens on this machine only and refuses runs that name another database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]

STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _other_address() -> str | None:
    """An address of this machine that is not the loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the interface
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


LAUNCH_ELSEWHERE = {
    "query": "mutation ($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename"
    " ... on RunConfigValidationInvalid { errors { message } } } }",
    "variables": {
        "p": {
            "selector": {
                "repositoryLocationName": "pipelines.definitions",
                "repositoryName": "__repository__",
                "jobName": "refresh_warehouse",
            },
            "runConfigData": {
                "resources": {
                    "warehouse": {
                        "config": {
                            "database_url": "sqlite:////tmp/elsewhere.db",
                            "warehouse_dir": "/tmp/elsewhere",
                        }
                    }
                }
            },
        }
    },
}


def _get(url: str, body: dict[str, object] | None = None) -> bytes | None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body else None,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            data: bytes = response.read()
            return data
    except OSError:
        return None


def test_serve_answers_on_both_ports_with_assets_checks_and_schedules(tmp_path: Path) -> None:
    streamlit_port, dagster_port = _free_port(), _free_port()
    env = {**os.environ, "PROPCLOUD_VAR_DIR": str(tmp_path / "var")}
    env.pop("DAGSTER_HOME", None)
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "propcloud.cli",
            "serve",
            "--port",
            str(streamlit_port),
            "--dagster-port",
            str(dagster_port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    query = {
        "query": "{ assetNodes { assetKey { path } } "
        "assetChecksOrError: instance { daemonHealth { allDaemonStatuses "
        "{ daemonType healthy } } } }"
    }
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        health = graph = None
        while time.monotonic() < deadline and not (health and graph):
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            health = health or _get(f"http://127.0.0.1:{streamlit_port}/_stcore/health")
            graph = _get(f"http://127.0.0.1:{dagster_port}/graphql", query)
            if graph and b"assetNodes" not in graph:
                graph = None
            time.sleep(1)  # polling two servers that take seconds to start
        assert health == b"ok"
        assert graph is not None, "the Dagster UI did not answer"
        data = json.loads(graph)["data"]
        keys = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        assert {"raw/org_office", "marts/dim_office", "published_warehouse"} <= keys
        config = (tmp_path / "var" / "dagster" / "dagster.yaml").read_text()
        assert "default_limit: 1" in config
        # the page tells the browser not to load Dagster's telemetry script
        page = _get(f"http://127.0.0.1:{dagster_port}/")
        assert page is not None and b'"telemetryEnabled": false' in page
        # no login of its own: not reachable from other machines unless the operator says so
        other = _other_address()
        if other is not None:
            assert _get(f"http://{other}:{dagster_port}/server_info") is None
        # and a run launched with a run config naming another database is refused
        refused = _get(f"http://127.0.0.1:{dagster_port}/graphql", LAUNCH_ELSEWHERE)
        assert refused is not None
        launched = json.loads(refused)["data"]["launchRun"]
        assert launched["__typename"] == "RunConfigValidationInvalid", launched
        assert not Path("/tmp/elsewhere").exists()
        # Stopped as a service manager would (SIGTERM to serve alone), it takes both servers down.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) is not None
        assert _get(f"http://127.0.0.1:{streamlit_port}/_stcore/health") is None
        assert _get(f"http://127.0.0.1:{dagster_port}/server_info") is None
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of the group
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
