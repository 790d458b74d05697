"""Running a coroutine from a test, whatever an earlier test left on the worker's thread."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a thread of its own and return its result.

    The browser tests' Playwright (its sync API) keeps an event loop running on the main thread of
    the xdist worker that ran them, and ``asyncio.run`` refuses to start a loop inside another.
    Which tests share a worker changes from run to run, so every test that drives a coroutine goes
    through here rather than calling ``asyncio.run`` itself.
    """
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
