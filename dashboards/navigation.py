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
    url_path: str | None = None
    """The page's address (``/reading``); None: Streamlit's default, from the file name."""
    probes: tuple[tuple[str, str], ...] = ()
    """The URL parameters that name a record, with the kind of record each names (``order``,
    ``plan``, ``point``, ``object``, ``office``): the role × scope test opens the page with
    another office's record in them and fails if anything of that office appears."""


ANALYTICS = "dashboards.nav.section_analytics"
ADMINISTRATION = "dashboards.nav.section_admin"
MAINT = "maint_ui.nav.section"
SUPPLIERS = "suppliers_ui.nav.section"

PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "views/tower.py",
        "tower.nav",
        ":material/dashboard:",
        Permission.VIEW_OVERVIEW,
        ANALYTICS,
    ),
    PageSpec(
        "views/energy.py",
        "energy_ui.nav.energy",
        ":material/bolt:",
        Permission.VIEW_ENERGY,
        ANALYTICS,
        url_path="energy",  # the control tower's links open /energy?office=… (or ?city=…)
        probes=(("office", "office"),),
    ),
    PageSpec(
        "views/reading_form.py",
        "energy_ui.nav.reading",
        ":material/speed:",
        Permission.ENTER_READINGS,
        "energy_ui.nav.section_entry",
        url_path="reading",  # meter labels' QR codes open {PROPCLOUD_BASE_URL}/reading?point=…
        probes=(("point", "point"),),
    ),
    PageSpec(
        "views/meter_replacement.py",
        "energy_ui.nav.replacement",
        ":material/published_with_changes:",
        Permission.MANAGE_METERS,
        "energy_ui.nav.section_entry",
    ),
    PageSpec(
        "views/todo.py", "maint_ui.nav.todo", ":material/checklist:", Permission.VIEW_ORDERS, MAINT
    ),
    PageSpec(
        "views/orders.py",
        "maint_ui.nav.orders",
        ":material/build:",
        Permission.VIEW_ORDERS,
        MAINT,
        url_path="orders",  # ?order=<number> opens that order
        probes=(("order", "order"),),
    ),
    PageSpec(
        "views/plans.py",
        "maint_ui.nav.plans",
        ":material/event_repeat:",
        Permission.DRAFT_PLANS,
        MAINT,
    ),
    PageSpec(
        "views/sla.py", "maint_ui.nav.sla", ":material/timer:", Permission.VIEW_OVERVIEW, MAINT
    ),
    PageSpec(
        "views/workload.py",
        "maint_ui.nav.workload",
        ":material/stacked_bar_chart:",
        Permission.VIEW_OVERVIEW,
        MAINT,
    ),
    PageSpec(
        "views/calendar.py",
        "calendar_ui.nav.page",
        ":material/calendar_month:",
        Permission.MANAGE_CALENDARS,
        MAINT,
        url_path="calendar",
    ),
    PageSpec(
        "views/object_card.py",
        "objects.nav.card",
        ":material/qr_code_2:",
        Permission.VIEW_OBJECTS,
        MAINT,
        url_path="object",  # object labels' QR codes open {PROPCLOUD_BASE_URL}/object?code=…
        probes=(("code", "object"), ("office", "office")),
    ),
    PageSpec(
        "views/faults.py",
        "objects.nav.faults",
        ":material/menu_book:",
        Permission.VIEW_OBJECTS,
        MAINT,
    ),
    PageSpec(
        "views/object_types.py",
        "object_types.nav.page",
        ":material/category:",
        Permission.MANAGE_OBJECT_TYPES,
        ADMINISTRATION,
    ),
    PageSpec(
        "views/admin_users.py",
        "dashboards.nav.admin_users",
        ":material/manage_accounts:",
        Permission.MANAGE_USERS,
        ADMINISTRATION,
    ),
    PageSpec(
        "views/objects.py",
        "selfservice.nav.objects",
        ":material/inventory_2:",
        Permission.MANAGE_OBJECTS,
        MAINT,
        url_path="objects",
        probes=(("office", "office"),),
    ),
    PageSpec(
        "views/meters.py",
        "selfservice.nav.meters",
        ":material/electric_meter:",
        Permission.MANAGE_METERS,
        "energy_ui.nav.section_entry",
        url_path="meters",
        probes=(("office", "office"),),
    ),
    PageSpec(
        "views/imports.py",
        "selfservice.nav.imports",
        ":material/upload_file:",
        Permission.OPEN_IMPORTS,
        ADMINISTRATION,
        url_path="imports",
    ),
    PageSpec(
        "views/order_list.py",
        "orders_ui2.nav.order_list",
        ":material/manage_search:",
        Permission.VIEW_ORDERS,
        MAINT,
        url_path="order_list",  # ?office=&discipline=&state=&month=&late= pre-fill the filters
        probes=(("office", "office"),),
    ),
    PageSpec(
        "views/audit_log.py",
        "orders_ui2.nav.audit_log",
        ":material/policy:",
        Permission.VIEW_AUDIT_LOG,
        "orders_ui2.nav.section_audit",
        url_path="audit_log",
    ),
    PageSpec(
        "views/supplier_ranking.py",
        "suppliers_ui.nav.ranking",
        ":material/leaderboard:",
        Permission.VIEW_SUPPLIERS,
        SUPPLIERS,
        url_path="suppliers",
    ),
    PageSpec(
        "views/supplier_evaluation.py",
        "suppliers_ui.nav.evaluation",
        ":material/rate_review:",
        Permission.EVALUATE_SUPPLIERS,
        SUPPLIERS,
        url_path="supplier_evaluation",
    ),
    PageSpec(
        "views/customers.py",
        "property.nav",
        ":material/contact_phone:",
        Permission.VIEW_PROPERTY,
        "property.nav_section",
        url_path="customers",  # ?office= preselects one of the user's offices
        probes=(("office", "office"),),
    ),
    # Inspections (docs/inspections.md)
    PageSpec(
        "views/inspection_plans.py",
        "insp_ui.nav_plans",
        ":material/fact_check:",
        Permission.VIEW_INSPECTIONS,
        MAINT,
        url_path="inspection_plans",
        probes=(("office", "office"),),
    ),
    PageSpec(
        "views/inspection.py",
        "insp_ui.nav_order",
        ":material/checklist_rtl:",
        Permission.VIEW_INSPECTIONS,
        MAINT,
        url_path="inspection",  # ?order=IO-…; checkpoint labels open ?plan=IP-…&checkpoint=CP-1
        probes=(("order", "inspection_order"), ("plan", "inspection_plan")),
    ),
    PageSpec(
        "views/nonconformity.py",
        "ncflows_ui.nav",
        ":material/report:",
        Permission.VIEW_ORDERS,  # everyone: the reads show each user what they may see
        SUPPLIERS,
        url_path="nonconformity",  # ?nc=<number> opens that nonconformity
        probes=(("nc", "nonconformity"),),
    ),
    PageSpec(
        "views/ticket_intake.py",
        "ticketdesk.intake.nav",
        ":material/support_agent:",
        Permission.RECORD_TICKETS,
        "property.nav_section",
        url_path="ticket_intake",
    ),
    PageSpec(
        "views/ticket.py",
        "ticketdesk.ticket.nav",
        ":material/confirmation_number:",
        Permission.VIEW_TICKETS,
        "property.nav_section",
        url_path="ticket",  # ?ticket=<number> opens that ticket
        probes=(("ticket", "ticket"),),
    ),
    PageSpec(
        "views/escalations.py",
        "ticketboard.nav",
        ":material/campaign:",
        Permission.VIEW_ESCALATIONS,
        ANALYTICS,
        url_path="escalations",  # the control tower's links open /escalations?office=…&level=…
        probes=(("office", "office"), ("city", "city")),
    ),
    PageSpec(
        "views/supplier_todo.py",
        "supplierusers.nav.todo",
        ":material/assignment_ind:",
        Permission.VIEW_SUPPLIER_WORK,
        MAINT,
        url_path="supplier_todo",
    ),
)


def visible_pages(user: Principal) -> list[PageSpec]:
    """The registered pages ``user`` may open, in registry order."""
    return [spec for spec in PAGES if user.can(spec.permission)]


def page(spec: PageSpec) -> StreamlitPage:
    """The ``st.Page`` of ``spec`` as the menu registers it (``st.page_link`` accepts it)."""
    return st.Page(
        HERE / spec.file, title=tr(spec.title_key), icon=spec.icon, url_path=spec.url_path
    )


def menu(user: Principal) -> dict[str, list[StreamlitPage]]:
    """The ``st.navigation`` menu for ``user``: translated sections of translated pages."""
    sections: dict[str, list[StreamlitPage]] = {}
    for spec in visible_pages(user):
        sections.setdefault(tr(spec.section_key), []).append(page(spec))
    return sections
