"""User text is text on every page: names, notes and URL parameters that look like Markdown or
HTML are shown as typed, never as a link, an image, a coloured span, a formula or markup.

A copy of the demo whose city, office, object, type, point, building, person names, order
titles, checklists, faults and plan names carry hostile text (and a warehouse built from it) is
walked page by page — every page of ``dashboards.navigation.PAGES``, so a new page joins by being
registered — as a user holding every role at group scope: plain (and with each of its select
boxes set to its last option), with each page's URL parameters naming a real record, and with
them set to the hostile text itself. No element whose
text Streamlit renders as Markdown may carry the hostile text unescaped, and no Plotly figure
may carry an HTML tag from it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboards import navigation
from dashboards.text import md, plot
from operational.auth import Grant, Principal
from operational.db import create_db_engine
from operational.models import (
    CityCompany,
    CorrectiveOrder,
    InspectionOrder,
    InspectionPlan,
    MaintObject,
    MeterPoint,
    Nonconformity,
    Office,
    Role,
    ScopeLevel,
    Ticket,
)
from operational.models import User as UserRow
from pipelines.run import run_pipeline

if TYPE_CHECKING:
    from conftest import Site

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
AS_OF_OFFICE = "SH001"

HOSTILE = '![](http://evil/x.png)[请重新登录](http://evil)<a href="http://evil">x</a>:red[x]$x$'
"""Each part would be live if rendered as Markdown: an image, a link, raw HTML, a Streamlit
colour directive, a LaTeX formula."""

LIVE = re.compile(r"\]\(http://evil|(?<!\\)<a href|:red\[x\]|\$x\$")
"""What the hostile text looks like wherever it is still live (escaped, each has a backslash
inside, or before the ``<``)."""

# (table, column, the new value as SQL over the old one); lengths stay within the columns
HOSTILE_COLUMNS = [
    ("org_group", "name", "name || ' ' || :h"),
    ("org_city_company", "name", "name || ' ' || :h"),
    ("org_office", "name", "name || ' ' || :h"),
    ("maint_object", "name", "name || ' ' || :h"),
    ("maint_object", "location", ":h"),
    ("maint_object_type", "name", "name || ' ' || :h"),
    ("maint_object_type_attribute", "name", ":h"),
    ("maint_checklist_item", "text", "text || ' ' || :h"),
    ("maint_checklist_item", "guidance", ":h"),
    ("maint_fault", "symptom", "substr(symptom, 1, 100) || ' ' || :h"),
    ("maint_fault", "cause", "cause || ' ' || :h"),
    ("maint_fault", "remedy", "remedy || ' ' || :h"),
    ("maint_periodic_plan", "name", "substr(name, 1, 100) || ' ' || :h"),
    ("maint_corrective_order", "title", "substr(title, 1, 100) || ' ' || :h"),
    ("maint_corrective_order", "description", ":h"),
    ("energy_point", "name", "name || ' ' || :h"),
    ("energy_building", "name", "substr(name, 1, 10) || :h"),
    ("auth_user", "display_name", ":h"),
    ("supplier_nonconformity", "description", ":h"),
    ("supplier_nonconformity", "cause", ":h"),
    ("cs_ticket", "subject", "substr(subject, 1, 100) || ' ' || :h"),
    ("cs_ticket", "description", ":h"),
    ("insp_plan", "name", "substr(name, 1, 100) || ' ' || :h"),
    ("insp_checkpoint", "area", "CASE WHEN area IS NULL THEN NULL ELSE :h END"),
    ("insp_item", "name", "substr(name, 1, 100) || ' ' || :h"),
    ("insp_score", "name", "substr(name, 1, 100) || ' ' || :h"),
    ("insp_score", "note", ":h"),
]


def _a_ticket(database: Path) -> None:
    """A repair at SH001 (the desk's pages show its subject, description and timeline)."""
    from datetime import UTC, datetime

    from operational.auth import system_principal
    from operational.db import unit_of_work
    from operational.services.ticket_desk import TicketForm, take_call

    engine = create_db_engine(f"sqlite:///{database}")
    with unit_of_work(engine) as s:
        take_call(
            s,
            system_principal("demo"),
            TicketForm(AS_OF_OFFICE, "repair", "漏水", place="common_area", urgency="normal"),
            now=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
        )
    engine.dispose()


# One worker runs this module, so its module-scoped site is made once: with
# --dist loadgroup xdist would otherwise hand the module's tests to both workers, each making it.
pytestmark = pytest.mark.xdist_group("hostile-text")


@pytest.fixture(scope="module")
def hostile_site(demo_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The demo with hostile text in every name and note, and its warehouse built afresh."""
    from tests.dashboards.conftest import AS_OF, Site

    root = tmp_path_factory.mktemp("hostile")
    database = root / "propcloud.db"
    shutil.copyfile(demo_site.database, database)
    _a_ticket(database)
    with sqlite3.connect(database) as db:
        for table, column, value in HOSTILE_COLUMNS:
            db.execute(f"UPDATE {table} SET {column} = {value}", {"h": HOSTILE})
    warehouse_dir = root / "warehouse"
    run_pipeline(f"sqlite:///{database}", warehouse_dir, AS_OF)
    return Site(database, warehouse_dir)


@pytest.fixture(scope="module")
def hostile_env(hostile_site: Site) -> Iterator[None]:
    import os

    saved = {k: os.environ.get(k) for k in ("PROPCLOUD_DATABASE_URL", "PROPCLOUD_WAREHOUSE_DIR")}
    os.environ["PROPCLOUD_DATABASE_URL"] = f"sqlite:///{hostile_site.database}"
    os.environ["PROPCLOUD_WAREHOUSE_DIR"] = str(hostile_site.warehouse_dir)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def real_records(hostile_site: Site) -> dict[str, str]:
    """One record of the office of each kind a page's URL parameters name."""
    engine = create_db_engine(f"sqlite:///{hostile_site.database}")
    with Session(engine) as s:
        office = s.scalars(select(Office).where(Office.code == AS_OF_OFFICE)).one()
        found = {
            "office": office.code,
            "order": s.scalars(
                select(CorrectiveOrder.document_no)
                .where(CorrectiveOrder.office_id == office.id)
                .order_by(CorrectiveOrder.id)
            ).first(),
            "point": s.scalars(
                select(MeterPoint.code)
                .where(MeterPoint.office_id == office.id)
                .order_by(MeterPoint.code)
            ).first(),
            "object": s.scalars(
                select(MaintObject.code)
                .where(MaintObject.office_id == office.id)
                .order_by(MaintObject.code)
            ).first(),
            "nonconformity": s.scalars(
                select(Nonconformity.document_no)
                .where(Nonconformity.office_id == office.id)
                .order_by(Nonconformity.id)
            ).first(),
            "ticket": s.scalars(
                select(Ticket.document_no).where(Ticket.office_id == office.id).order_by(Ticket.id)
            ).first(),
            "city": s.scalars(
                select(CityCompany.code).where(CityCompany.id == office.city_id)
            ).first(),
            "inspection_order": s.scalars(
                select(InspectionOrder.document_no)
                .where(InspectionOrder.office_id == office.id)
                .order_by(InspectionOrder.id)
            ).first(),
            "inspection_plan": s.scalars(
                select(InspectionPlan.document_no)
                .where(InspectionPlan.office_id == office.id)
                .order_by(InspectionPlan.id)
            ).first(),
        }
    engine.dispose()
    assert all(found.values()), found
    return {kind: str(value) for kind, value in found.items()}


@pytest.fixture(scope="module")
def everyone(hostile_site: Site) -> Principal:
    """An account holding every role at group scope (an administrator's own account)."""
    engine = create_db_engine(f"sqlite:///{hostile_site.database}")
    with Session(engine) as s:
        admin = s.scalars(select(UserRow).where(UserRow.username == "admin")).one()
        user_id, display_name = admin.id, admin.display_name
    engine.dispose()
    grants = tuple(Grant(role, ScopeLevel.GROUP, "", None) for role in Role)
    return Principal(user_id, "admin", display_name, "zh_CN", grants)


# ---------------------------------------------------------------- what the page rendered

PLAIN_TEXT = {"text", "code", "arrow_data_frame", "html", "json", "exception", "empty"}
"""Elements whose text Streamlit never reads as Markdown (tables, code, our own HTML)."""

NOT_MARKDOWN_FIELDS = {"options", "default", "value", "raw_value", "placeholder", "data"}
"""Widget fields shown as plain text (select box options, typed values)."""


def markdown_texts(app: AppTest) -> Iterator[tuple[str, str]]:
    """(element type, text) of every string Streamlit renders as Markdown on this screen:
    bodies, labels, help, tab and expander labels, radio and segmented-control options."""

    def strings(message: Message, kind: str) -> Iterator[tuple[str, str]]:
        for field, value in message.ListFields():
            if field.name in NOT_MARKDOWN_FIELDS and kind not in {"radio", "button_group"}:
                continue
            if field.name == "spec" and kind == "plotly_chart":
                continue  # checked as a figure
            values = value if field.is_repeated else [value]
            for item in values:
                if isinstance(item, str):
                    yield kind, item
                elif isinstance(item, Message):
                    yield from strings(item, kind)

    def walk(node: Any) -> Iterator[tuple[str, str]]:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if isinstance(proto, Message) and kind not in PLAIN_TEXT:
            yield from strings(proto, kind)
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children) or ():
            yield from walk(child)

    yield from walk(app._tree)


def figures(app: AppTest) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if getattr(node, "type", "") == "plotly_chart":
            found.append(node.proto.spec)
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children) or ():
            walk(child)

    walk(app._tree)
    return found


def live(app: AppTest) -> list[tuple[str, str]]:
    """Every place where the hostile text is still live."""
    found = [(kind, text) for kind, text in markdown_texts(app) if LIVE.search(text)]
    for spec in figures(app):
        if "<a" in spec or "<a" in json.loads(spec).__repr__():
            found.append(("plotly_chart", spec[:200]))
    return found


def test_the_helpers_turn_the_hostile_text_off() -> None:
    assert LIVE.search(HOSTILE)
    assert not LIVE.search(md(HOSTILE))
    assert "<a" not in plot(HOSTILE)


@pytest.mark.slow
def test_no_page_renders_stored_or_linked_text_as_markup(
    hostile_env: None, everyone: Principal, real_records: dict[str, str]
) -> None:
    def fresh_app() -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=90)
        app.session_state["principal"] = everyone
        return app.run()

    app = fresh_app()
    problems: list[object] = [("sidebar", found) for found in live(app)]
    shown_hostile = False
    pages = navigation.visible_pages(everyone)
    # every page but the supplier user's own (its role counts only on an account tied to a
    # supplier; its page renders its lines through md(), tests/dashboards/test_supplier_users_pages.py)
    assert {p.file for p in navigation.PAGES} - {p.file for p in pages} == {
        "views/supplier_todo.py"
    }
    for page in pages:
        visits: list[dict[str, str]] = [{}]
        if page.probes:
            visits.append({key: real_records[kind] for key, kind in page.probes})
            visits.append({key: HOSTILE for key, _ in page.probes})
        for query in visits:
            app.query_params.clear()
            app.switch_page(page.file)
            for key, value in query.items():
                app.query_params[key] = value
            app.run()
            where = (page.file, query)
            assert not app.exception, (*where, app.exception)
            problems += [(*where, found) for found in live(app)]
            if query:
                continue
            # what a choice in each select box shows (the last option: often a named record)
            for key in [box.key for box in app.selectbox if box.key and box.options]:
                boxes = [box for box in app.selectbox if box.key == key and box.options]
                if not boxes:
                    continue
                try:
                    boxes[0].select_index(len(boxes[0].options) - 1).run()
                except ValueError:  # AppTest could not match a label a lazy format_func made
                    app = fresh_app()
                    app.switch_page(page.file).run()
                    continue
                assert not app.exception, (*where, key, app.exception)
                problems += [(*where, key, found) for found in live(app)]
            shown_hostile = shown_hostile or any("evil" in text for _, text in markdown_texts(app))
    assert not problems, "\n".join(map(str, problems))
    assert shown_hostile  # the walk did reach the hostile names
