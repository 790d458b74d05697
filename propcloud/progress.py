"""Progress on the command line: a bar on a terminal, plain lines anywhere else.

Long commands (imports, ``demo``, ``pipeline run``) report to an
:class:`operational.progress.Progress`; this is the one that draws it, on standard error so that
what a command prints on standard output stays clean for scripts. On a terminal each stage is a
``click`` progress bar (or a line ending in "…" when its size is not known beforehand); when
standard error is not a terminal (CI, a pipe, a log file) a stage is a line when it begins, a
line at each further tenth done, and a line when it ends, with the time it took.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import click

from operational.i18n import t

TENTHS = 10


class TerminalProgress:
    """Draws the stages of long work for a person in ``language`` (``PROPCLOUD_LANG``)."""

    def __init__(
        self,
        language: str,
        stream: TextIO | None = None,
        *,
        bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.language = language
        self.stream = stream if stream is not None else sys.stderr
        self.bar = self.stream.isatty() if bar is None else bar
        self._clock = clock
        self._label: str | None = None
        self._total: int | None = None
        self._done = 0
        self._tenths = 0
        self._started = 0.0
        self._bar: Any = None  # click's ProgressBar of the current stage, on a terminal

    def begin(self, key: str, total: int | None, /, **params: object) -> None:
        self.end()  # a stage still open is over
        self._label = t(key, self.language, **params)
        self._total, self._done, self._tenths = total, 0, 0
        self._started = self._clock()
        if self.bar and total:
            self._bar = click.progressbar(
                length=total,
                label=self._label,
                file=self.stream,
                show_pos=True,
                show_percent=True,
                item_show_func=lambda item: item,
                update_min_steps=max(1, total // 500),  # redraw at most ≈ 500 times
            )
            self._bar.__enter__()
        else:
            self._line("ops.progress.begin", label=self._label)

    def advance(self, amount: int, /, item: str | None = None) -> None:
        if self._label is None:
            return
        self._done += amount
        if self._bar is not None:
            self._bar.update(amount, item)
        elif self._total:
            tenths = min(TENTHS, self._done * TENTHS // self._total)
            if self._tenths < tenths < TENTHS:  # the last tenth is said by ``end``
                self._tenths = tenths
                self._line(
                    "ops.progress.part",
                    label=self._label,
                    percent=tenths * 100 // TENTHS,
                    done=self._done,
                    total=self._total,
                )

    def end(self, failed: bool = False) -> None:
        if self._label is None:
            return
        label, seconds = self._label, self._clock() - self._started
        self._label = None
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        if failed:
            self._line("ops.progress.failed", label=label)
        elif self._total is None:
            self._line("ops.progress.done", label=label, seconds=seconds)
        else:
            self._line("ops.progress.done_count", label=label, done=self._done, seconds=seconds)

    def _line(self, key: str, **params: object) -> None:
        click.echo(t(key, self.language, **params), file=self.stream)
