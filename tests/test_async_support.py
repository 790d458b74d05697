"""Tests drive coroutines through one helper, so a browser test earlier on the worker cannot break them."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

from tests.async_support import run_coroutine

TESTS = Path(__file__).parent


def test_no_test_module_starts_an_event_loop_of_its_own() -> None:
    # asyncio.run on an xdist worker's main thread fails once a Playwright test ran there first,
    # and which tests share a worker changes from run to run (CI saw 13 such failures).
    starts = re.compile(r"\basyncio\.run\(|run_until_complete\(")
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "async_support.py" and path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if starts.search(line)
    ]
    assert offenders == [], f"use tests.async_support.run_coroutine: {offenders}"


def test_a_coroutine_runs_even_while_a_loop_is_running_on_this_thread() -> None:
    async def inner() -> str:
        return "done"

    async def outer() -> str:
        # A loop is running on this thread now, as Playwright's leaves one on a worker.
        return run_coroutine(inner())

    results: list[str] = []
    # A thread of its own for the outer loop: this worker's main thread may hold Playwright's.
    thread = threading.Thread(target=lambda: results.append(asyncio.run(outer())))
    thread.start()
    thread.join(timeout=60)
    assert results == ["done"]
