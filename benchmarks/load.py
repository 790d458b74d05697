"""``propcloud bench load``: many people opening dashboard pages at once, on this machine.

The dashboards' cost per page is paid by the Streamlit server: each page a browser opens is a
WebSocket connection (``/_stcore/stream``) on which the page's script runs once and its
elements come back as protobuf messages. This benchmark plays browsers without a browser:

* **data** — the demo group (``--offices``, ``--days``) loaded and built once into
  ``--workdir`` (kept between runs: a second run with the same workdir starts at once);
* **servers** — ``--servers`` processes of ``streamlit run dashboards/server.py`` (what
  ``propcloud serve`` runs) on consecutive ports, sharing the database and the warehouse;
* **sessions** — for each level of ``--sessions`` (e.g. 1,2,4,8), that many simulated people,
  each logged in as ``--user`` with a login session of their own (its cookie, as a browser
  keeps it), opening ``--loads`` pages one after the other without pause — a new connection per
  page, as a page load (F5, a link, a scanned label) is: the script runs from the top, with
  the login restored from the cookie; the page left stays connected until the next one has
  loaded, as a tab does. Pages go round ``--pages``; sessions are spread over the
  servers in turn (a proxy with sticky sessions would do the same);
* **measured** — each page's time from the connection's opening to the server's
  ``script_finished`` (the page is complete), the errors (an exception element on the page, a
  page not found, a run that did not finish), the servers' CPU time (user + system of each
  process, all its threads, from ``/proc``) over the level divided by the pages served, and
  the driver's own CPU time.

The driver runs in a process of its own (``--driver-nice`` sets its niceness; 19 leaves the
server every cycle it wants on a quiet machine, but on a machine busy with other work it
starves the driver, whose waiting then counts as page time — default 0), and its CPU time is
reported beside the server's: about a tenth of the server's per page. Figures are reported, never asserted (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT

Log = Callable[[str], None]

PAGE_PATHS = {"overview": ""}
"""Page name → the address a browser opens it at (the first page of the menu is at ``/``)."""
DEFAULT_PAGES = ("overview", "energy", "sla", "workload")


def _quiet(_: str) -> None:
    pass


@dataclass
class Options:
    workdir: Path
    offices: int = 12
    days: int = 730
    sessions: tuple[int, ...] = (1, 2, 4, 8)
    loads: int = 12
    pages: tuple[str, ...] = DEFAULT_PAGES
    user: str = "hq"
    servers: int = 1
    port: int = 8700
    server_args: tuple[str, ...] = field(default_factory=tuple)
    driver_nice: int = 0


def run_benchmark(options: Options, log: Log = _quiet) -> dict[str, Any]:
    workdir = options.workdir.resolve()
    env = _environment(workdir)
    _prepare(workdir, env, options, log)
    tokens = _tokens(env, options.user, max(options.sessions))
    ports = [options.port + n for n in range(options.servers)]
    servers = [_start_server(port, env, options.server_args) for port in ports]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "scale": {"offices": options.offices, "days": options.days},
        "servers": options.servers,
        "server_args": list(options.server_args),
        "user": options.user,
        "pages": list(options.pages),
        "loads_per_session": options.loads,
        "driver_nice": options.driver_nice,
        "levels": [],
    }
    try:
        for port in ports:
            _wait_healthy(port)
        # Warm-up: each server imports the pages' modules and opens the warehouse once.
        _drive(ports, tokens[:1], options.pages, len(options.pages) * 2, options.driver_nice)
        for level in options.sessions:
            log(f"  {level} session(s) × {options.loads} page loads …")
            before = [_cpu_seconds(p.pid) for p in servers]
            began = time.perf_counter()
            driven = _drive(
                ports, tokens[:level], options.pages, options.loads, options.driver_nice
            )
            wall = time.perf_counter() - began
            server_cpu = sum(_cpu_seconds(p.pid) - b for p, b in zip(servers, before, strict=True))
            times = [t for t in driven["times"] if t is not None]
            pages = len(driven["times"])
            report["levels"].append(
                {
                    "sessions": level,
                    "pages": pages,
                    "errors": driven["errors"],
                    "first_errors": driven["first_errors"],
                    "wall_seconds": round(wall, 3),
                    "pages_per_s": round(pages / wall, 2),
                    "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
                    "p95_ms": round(_p95(times) * 1000, 1) if times else None,
                    "server_cpu_seconds": round(server_cpu, 3),
                    "server_cpu_per_page_s": round(server_cpu / pages, 4) if pages else None,
                    "driver_cpu_seconds": driven["driver_cpu_seconds"],
                    "per_page_median_ms": driven["per_page_median_ms"],
                }
            )
    finally:
        for server in servers:
            _stop(server)
    return report


def format_report(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"load benchmark {report['date']} — {machine['cpu_count']} cores, "
        f"load average at start {', '.join(f'{x:.1f}' for x in machine['load_average'])}",
        f"demo group: {report['scale']['offices']} offices × {report['scale']['days']} days; "
        f"{report['servers']} Streamlit process(es) {' '.join(report['server_args'])}; "
        f"user {report['user']}; pages {', '.join(report['pages'])}",
        "",
        "sessions  pages  errors  pages/s  median ms  p95 ms  server CPU/page s  driver CPU s",
    ]
    for level in report["levels"]:
        lines.append(
            f"{level['sessions']:>8}  {level['pages']:>5}  {level['errors']:>6}  "
            f"{level['pages_per_s']:>7.2f}  {level['median_ms'] or 0:>9.1f}  "
            f"{level['p95_ms'] or 0:>6.1f}  {level['server_cpu_per_page_s'] or 0:>17.3f}  "
            f"{level['driver_cpu_seconds']:>12.2f}"
        )
    lines.append("")
    lines.append("median ms per page at the highest level:")
    top = report["levels"][-1]["per_page_median_ms"] if report["levels"] else {}
    lines.extend(f"  {page or 'overview'}: {ms}" for page, ms in top.items())
    return "\n".join(lines)


# ---------------------------------------------------------------- set-up


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PROPCLOUD_VAR_DIR"] = str(workdir)
    env["PROPCLOUD_DATABASE_URL"] = f"sqlite:///{workdir}/propcloud.db"
    env["PROPCLOUD_WAREHOUSE_DIR"] = str(workdir / "warehouse")
    env.pop("PROPCLOUD_WAREHOUSE_MEMORY_LIMIT", None)
    return env


def _propcloud(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "propcloud"), *args],
        env=env,
        check=True,
        capture_output=True,
    )


def _prepare(workdir: Path, env: dict[str, str], options: Options, log: Log) -> None:
    """The demo group and a published warehouse, unless the workdir has them already."""
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "warehouse" / "CURRENT").exists():
        return
    log(f"  loading the demo group ({options.offices} offices × {options.days} days) …")
    _propcloud(env, "demo", "--offices", str(options.offices), "--days", str(options.days))
    log("  building the warehouse …")
    _propcloud(env, "pipeline", "run")


def _tokens(env: dict[str, str], username: str, count: int) -> list[str]:
    """``count`` login sessions of ``username``: the cookies of as many browsers."""
    code = (
        "import json, sys\n"
        "from sqlalchemy import select\n"
        "from operational import login_sessions\n"
        "from operational.db import create_db_engine, unit_of_work\n"
        "from operational.models import User\n"
        "from operational.settings import load_settings, signing_key\n"
        "s = load_settings()\n"
        "life = login_sessions.Lifetime(s.session_idle, s.session_max_age)\n"
        "with unit_of_work(create_db_engine(s.database_url)) as db:\n"
        "    uid = db.scalar(select(User.id).where(User.username == sys.argv[1]))\n"
        "    tokens = [login_sessions.start(db, signing_key(s), uid, life).token\n"
        "              for _ in range(int(sys.argv[2]))]\n"
        "print(json.dumps(tokens))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, username, str(count)],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    tokens: list[str] = json.loads(done.stdout)
    return tokens


def _start_server(
    port: int, env: dict[str, str], extra: tuple[str, ...]
) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "streamlit"),
        "run",
        str(REPO_ROOT / "dashboards" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *extra,
    ]
    return subprocess.Popen(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (every thread), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


# ---------------------------------------------------------------- the driver (its own process)


def _drive(
    ports: list[int], tokens: list[str], pages: tuple[str, ...], loads: int, nice: int
) -> dict[str, Any]:
    """Run the driver in a child process of its own, at niceness ``nice``; its JSON report."""
    spec = {"ports": ports, "tokens": tokens, "pages": list(pages), "loads": loads}
    done = subprocess.run(
        ["nice", "-n", str(nice), sys.executable, "-m", "benchmarks.load", "drive"],
        input=json.dumps(spec),
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"driver failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _page_load(port: int, token: str, page: str) -> tuple[Any, float | None, str | None]:
    """Open ``page`` as a browser would: (its open connection, seconds to the end of its run or
    None, an error). The caller closes the connection when the person leaves the page."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    began = time.perf_counter()
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=[websockets.Subprotocol("streamlit")],
        additional_headers={"Cookie": f"propcloud_session={token}"},
        max_size=None,
        open_timeout=60,
        ping_interval=None,  # a browser does not drop a page whose server is slow to answer
    )
    try:
        request = BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_name = PAGE_PATHS.get(page, page)
        await socket.send(request.SerializeToString())
        error = None
        while True:
            data = await asyncio.wait_for(socket.recv(), timeout=120)
            message = ForwardMsg()
            message.ParseFromString(data)  # type: ignore[arg-type]
            kind = message.WhichOneof("type")
            if kind == "page_not_found":
                error = f"page not found: {page}"
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                if message.delta.new_element.WhichOneof("type") == "exception":
                    error = f"exception on {page}: {message.delta.new_element.exception.message}"
            elif kind == "script_finished":
                if message.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    error = error or f"{page}: run ended with {message.script_finished}"
                return socket, time.perf_counter() - began, error
    except BaseException:
        await socket.close()
        raise


async def _session(
    port: int, token: str, pages: list[str], loads: int, offset: int, out: list[dict[str, Any]]
) -> None:
    """One person opening ``loads`` pages in turn. Like a browser tab, the page stays connected
    until the next one has loaded (Streamlit forgets its compiled pages when no session at all
    is connected, which a driver closing each page at once would cause on every load)."""
    previous = None
    for n in range(loads):
        page = pages[(offset + n) % len(pages)]
        try:
            socket, seconds, error = await _page_load(port, token, page)
        except Exception as failure:  # a refused or dropped connection is an error, not a crash
            socket, seconds, error = None, None, f"{type(failure).__name__}: {failure}"
        if previous is not None:
            await previous.close()
        previous = socket
        out.append({"page": page, "seconds": seconds, "error": error})
    if previous is not None:
        await previous.close()


async def _drive_all(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ports, tokens, pages = spec["ports"], spec["tokens"], spec["pages"]
    await asyncio.gather(
        *(
            _session(ports[n % len(ports)], token, pages, spec["loads"], n, out)
            for n, token in enumerate(tokens)
        )
    )
    return out


def _driver_main() -> None:
    import resource

    spec = json.loads(sys.stdin.read())
    loads = asyncio.run(_drive_all(spec))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    by_page: dict[str, list[float]] = {}
    for load in loads:
        if load["seconds"] is not None:
            by_page.setdefault(load["page"], []).append(load["seconds"])
    errors = [load["error"] for load in loads if load["error"]]
    print(
        json.dumps(
            {
                "times": [load["seconds"] for load in loads],
                "errors": len(errors),
                "first_errors": errors[:3],
                "driver_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
                "per_page_median_ms": {
                    page: round(statistics.median(times) * 1000, 1)
                    for page, times in sorted(by_page.items())
                },
            }
        )
    )


if __name__ == "__main__":  # python -m benchmarks.load drive < spec.json
    if sys.argv[1:] == ["drive"]:
        _driver_main()
    else:
        sys.exit("usage: python -m benchmarks.load drive < SPEC.json")
