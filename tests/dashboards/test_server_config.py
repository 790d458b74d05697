"""The dashboards' server shows no error details in production (dashboards/.streamlit/config.toml,
read by ``streamlit run dashboards/server.py`` — what ``propcloud serve`` runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "dashboards" / "server.py"


def test_streamlit_run_of_the_server_hides_error_details(tmp_path: Path) -> None:
    """Streamlit as ``streamlit run`` configures itself for the server script, started from
    another working directory (a service's): ``client.showErrorDetails`` is ``none`` — no
    exception type, message or traceback in the browser (``false`` would still show the
    traceback)."""
    probe = (
        "from streamlit import config\n"
        f"config._main_script_path = {str(SERVER)!r}\n"
        "print(config.get_option('client.showErrorDetails'))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert shown == "none"


def test_streamlit_run_of_the_server_spends_no_page_run_on_watching_or_collecting(
    tmp_path: Path,
) -> None:
    """Every page load of a production server runs the page and nothing else: no file watcher
    per browser session (it walks every imported module after each run) and no forced full
    garbage collection after each run — together two thirds of a page load's CPU."""
    probe = (
        "from streamlit import config\n"
        f"config._main_script_path = {str(SERVER)!r}\n"
        "for name in ('server.fileWatcherType', 'server.runOnSave', 'runner.postScriptGC'):\n"
        "    print(config.get_option(name))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert shown == ["none", "False", "False"]
