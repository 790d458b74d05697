"""Long lists a page at a time, never cut silently.

A page asks its reader how many rows there are, lets :func:`pager` choose the page, and reads
just that page (``limit``/``offset`` in the query). The pager states which rows are shown out of
how many ("Rows 51–100 of 480"), so a list is never shorter than it looks; a list that fits on
one page gets no pager.

The page sizes of the lists are here, in one place (read when a page runs).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboards.session import tr

ATTENTION_LINES = 20
"""Lines of the control tower's "needs attention" list per page."""
NODES = 20
"""City companies or offices per page of a table or heat-map of them."""
LATE_ORDERS = 50
"""Late orders per page of the SLA page's list."""
ORDER_LIST = 50
"""Orders per page of the order search."""
AUDIT_ENTRIES = 50
"""Entries per page of the audit log."""
NONCONFORMITIES = 50
"""Nonconformities per page of their list."""
FAILED_ITEMS = 20
"""Inspection items per page of the quality review's most-failing items."""


@dataclass(frozen=True)
class Page:
    """The rows to read: ``limit`` rows from row ``offset`` (0-based) of ``total``."""

    offset: int
    limit: int
    total: int

    @property
    def last(self) -> int:
        """The number of the last row shown (1-based)."""
        return min(self.total, self.offset + self.limit)


def pages(total: int, size: int) -> int:
    """How many pages of ``size`` rows ``total`` rows fill (at least one)."""
    return max(1, -(-total // size))


def pager(total: int, *, size: int, key: str) -> Page:
    """The page of ``size`` rows chosen with the page box ``key`` (shown only when ``total``
    needs more than one page), and the caption saying which rows of how many are shown."""
    count = pages(total, size)
    number = 1
    if count > 1:
        kept = st.session_state.get(key)
        if not isinstance(kept, int) or not 1 <= kept <= count:
            st.session_state[key] = 1  # a shorter list since: back to its first page
        number = int(
            st.number_input(
                tr("tower.paging.page", pages=count),
                min_value=1,
                max_value=count,
                step=1,
                key=key,
                width=220,
            )
        )
    page = Page((number - 1) * size, size, total)
    if count > 1:
        st.caption(tr("tower.paging.rows", first=page.offset + 1, last=page.last, total=total))
    return page
