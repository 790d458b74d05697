"""A warehouse build under way, shown in the sidebar of every page: how far it has got, kept
current every few seconds while it runs; when it has published, the page runs again so that it
shows the new figures. Nothing is drawn, and nothing refreshes, while no build runs."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboards.session import settings, tr
from warehouse.publish import RunningBuild, Warehouse

REFRESH_SECONDS = 5


def _running() -> RunningBuild | None:
    builds = Warehouse(settings().warehouse_dir).running_builds()
    return builds[-1] if builds else None


def _show(build: RunningBuild) -> None:
    minutes = max(0, int((datetime.now(UTC) - build.started_at).total_seconds() // 60))
    if build.total:
        st.progress(
            min(build.done / build.total, 1.0),
            text=tr("build_status.running", done=build.done, total=build.total, minutes=minutes),
        )
    else:
        st.progress(0, text=tr("build_status.starting", minutes=minutes))


@st.fragment(run_every=REFRESH_SECONDS)
def _live() -> None:
    build = _running()
    if build is None:  # published (or stopped): the whole page again, with what is published now
        st.rerun(scope="app")
    else:
        _show(build)


def running_build() -> None:
    """The progress of a running build, if one runs (call it inside ``st.sidebar``)."""
    if _running() is not None:
        _live()
