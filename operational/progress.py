"""Progress of long work (imports, the demo, a warehouse build), reported to whoever shows it.

The work reports to a :class:`Progress` and knows nothing of terminals or pages: the command line
draws a bar or plain lines (``propcloud.progress``), a page may draw ``st.progress``, a test
records the calls. Work reports once per chunk (a batch of rows, a point, an office, a table),
never per row, so reporting costs nothing next to the work.

A piece of work is one or more *stages* in turn (never nested), each with a catalogue key for
its label (``ops.progress.*``, in ``operational/i18n/ops.*.toml``) and, where known, how many
units it has::

    with stage(progress, "ops.progress.import.write", len(rows)) as advance:
        for batch in batches:
            write(batch)
            advance(len(batch))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Protocol, TypeVar

T = TypeVar("T")
CHUNK = 10_000
"""Rows between two reports of work done row by row."""


class Progress(Protocol):
    """What long work reports to: a stage begun, units of it done, the stage ended."""

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        """A stage starts: ``key`` is its label's catalogue key, ``params`` the label's
        placeholders, ``total`` its units (None: not known beforehand)."""

    def advance(self, amount: int, /, item: str | None = None) -> None:
        """``amount`` more units of the current stage are done; ``item`` names the last one (a
        table, an office code), for a display that has room for it."""

    def end(self, failed: bool = False) -> None:
        """The current stage is over: done, or ``failed`` (an exception is on its way)."""


class NoProgress:
    """Reports go nowhere: the default where nobody is watching."""

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        return None

    def advance(self, amount: int, /, item: str | None = None) -> None:
        return None

    def end(self, failed: bool = False) -> None:
        return None


NO_PROGRESS: Progress = NoProgress()


class Advance(Protocol):
    """``advance(amount, item=None)`` of the stage :func:`stage` began."""

    def __call__(self, amount: int, /, item: str | None = None) -> None: ...


@contextmanager
def stage(
    progress: Progress, key: str, total: int | None = None, /, **params: object
) -> Iterator[Advance]:
    """Begin a stage, give its ``advance`` to the block, and end it however the block is left."""
    progress.begin(key, total, **params)
    try:
        yield progress.advance
    except BaseException:
        progress.end(failed=True)
        raise
    progress.end()


def counted(items: Iterable[T], advance: Advance, every: int = CHUNK) -> Iterator[T]:
    """The items, calling ``advance(n)`` each time another ``every`` of them (or the last few)
    have been handled: a loop over rows reports per chunk without a counter of its own."""
    iterator = iter(items)
    while chunk := list(islice(iterator, every)):
        yield from chunk
        advance(len(chunk))
