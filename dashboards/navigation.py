"""The page registry: which pages exist, under which menu section, for which permission.

A new page is one file under ``dashboards/views/`` plus one :class:`PageSpec` line in
:data:`PAGES`, with its title and section keys in the ``dashboards.*.toml`` catalogues.
The menu shows a page only to users who hold its permission in some scope; each page checks
the permission again itself (``session.require``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboards.session import tr
from operational.auth import Permission, Principal

HERE = Path(__file__).parent


@dataclass(frozen=True)
class PageSpec:
    """One page of the app: its file (relative to ``dashboards/``), menu text keys, icon, gate."""

    file: str
    title_key: str
    icon: str
    permission: Permission
    section_key: str


ANALYTICS = "dashboards.nav.section_analytics"
ADMINISTRATION = "dashboards.nav.section_admin"

PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "views/overview.py",
        "dashboards.nav.overview",
        ":material/account_tree:",
        Permission.VIEW_OVERVIEW,
        ANALYTICS,
    ),
    PageSpec(
        "views/admin_users.py",
        "dashboards.nav.admin_users",
        ":material/manage_accounts:",
        Permission.MANAGE_USERS,
        ADMINISTRATION,
    ),
)


def visible_pages(user: Principal) -> list[PageSpec]:
    """The registered pages ``user`` may open, in registry order."""
    return [spec for spec in PAGES if user.can(spec.permission)]


def menu(user: Principal) -> dict[str, list[StreamlitPage]]:
    """The ``st.navigation`` menu for ``user``: translated sections of translated pages."""
    sections: dict[str, list[StreamlitPage]] = {}
    for spec in visible_pages(user):
        page = st.Page(HERE / spec.file, title=tr(spec.title_key), icon=spec.icon)
        sections.setdefault(tr(spec.section_key), []).append(page)
    return sections
