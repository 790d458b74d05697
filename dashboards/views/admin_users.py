"""Users and roles (用户与角色): the group administrator's page.

Every change goes through ``operational.services.users`` with the logged-in administrator as the
actor, so it is validated and audited there. Actions run in widget callbacks, before the page is
drawn, so the user list below always shows their result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboards.export import excel_download
from dashboards.session import (
    LANGUAGE_NAMES,
    error_text,
    flash,
    operational_engine,
    principal,
    require,
    show_flash,
    tr,
)
from dashboards.text import md
from operational.auth import Permission, Principal
from operational.db import unit_of_work
from operational.errors import DomainError
from operational.models import CityCompany, Office, Role, ScopeLevel, Supplier
from operational.services.users import (
    GrantSpec,
    UserView,
    add_user,
    list_users,
    set_active,
    set_grants,
    set_password,
    unlock,
)


@dataclass(frozen=True)
class Org:
    """The city companies and offices a grant can name: code → display name."""

    cities: dict[str, str]
    offices: dict[str, str]
    suppliers: dict[str, str]
    """Supplier code → name: a supplier user's account belongs to one (供方用户)."""

    def scope_codes(self, level: ScopeLevel) -> dict[str, str]:
        """Code → name of the city companies or the offices (a group scope names no code)."""
        return self.cities if level is ScopeLevel.CITY else self.offices


def load_org(db: Session) -> Org:
    cities = {c.code: c.name for c in db.scalars(select(CityCompany).order_by(CityCompany.code))}
    offices = {o.code: o.name for o in db.scalars(select(Office).order_by(Office.code))}
    suppliers = {
        s.supplier_code: s.name
        for s in db.scalars(select(Supplier).order_by(Supplier.supplier_code))
    }
    return Org(cities, offices, suppliers)


def grant_text(grant: GrantSpec, org: Org) -> str:
    """``管理处经理 · 上海翠湖花园管理处 (SH001)``; a group-wide role names the whole group."""
    role = tr(f"role.{grant.role.value}")
    if grant.scope_level is ScopeLevel.GROUP:
        return f"{role} · {tr('scope.group')}"
    name = org.scope_codes(grant.scope_level).get(grant.scope_code, grant.scope_code)
    return f"{role} · {name} ({grant.scope_code})"


def users_table(users: list[UserView], org: Org) -> pl.DataFrame:
    yes, no = tr("dashboards.admin.yes"), tr("dashboards.admin.no")
    return pl.DataFrame(
        {
            tr("dashboards.admin.col.username"): [u.username for u in users],
            tr("dashboards.admin.col.display_name"): [u.display_name for u in users],
            tr("dashboards.admin.col.roles"): [
                "；".join(grant_text(g, org) for g in u.grants) for u in users
            ],
            tr("supplierusers.admin.col.supplier"): [
                f"{org.suppliers.get(u.supplier_code, '')} ({u.supplier_code})"
                if u.supplier_code
                else ""
                for u in users
            ],
            tr("dashboards.admin.col.active"): [yes if u.is_active else no for u in users],
            tr("dashboards.admin.col.language"): [
                LANGUAGE_NAMES.get(u.language, u.language) for u in users
            ],
        }
    )


# --- actions (widget callbacks) ---------------------------------------------------------------


def _run(action: Callable[[Session, Principal], str]) -> bool:
    """Run one change in its own transaction and keep its outcome for the page to show."""
    actor = principal()
    assert actor is not None
    try:
        with unit_of_work(operational_engine()) as db:
            message = action(db, actor)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return False
    flash(message)
    return True


def _picked_grant(prefix: str) -> GrantSpec:
    state = st.session_state
    level = ScopeLevel(state[f"{prefix}_level"])
    code = "" if level is ScopeLevel.GROUP else state.get(f"{prefix}_code") or ""
    return GrantSpec(Role(state[f"{prefix}_role"]), level, code)


def _add_user() -> None:
    state = st.session_state
    grant = _picked_grant("new")

    def action(db: Session, actor: Principal) -> str:
        view = add_user(
            db,
            actor,
            username=state["new_username"],
            display_name=state["new_display_name"],
            password=state["new_password"],
            grants=[grant],
            supplier_code=state.get("new_supplier") or "",
        )
        return tr("dashboards.admin.added", username=md(view.username))

    done = _run(action)
    state["new_password"] = ""
    if done:
        state["new_username"] = ""
        state["new_display_name"] = ""


def _save_grants(username: str, grants: list[GrantSpec]) -> None:
    def action(db: Session, actor: Principal) -> str:
        set_grants(db, actor, username, grants)
        return tr("dashboards.admin.roles_saved", username=md(username))

    _run(action)


def _set_active(username: str, active: bool) -> None:
    def action(db: Session, actor: Principal) -> str:
        set_active(db, actor, username, active)
        key = "dashboards.admin.enabled" if active else "dashboards.admin.disabled"
        return tr(key, username=md(username))

    _run(action)


def _unlock(username: str) -> None:
    def action(db: Session, actor: Principal) -> str:
        count = unlock(db, actor, username)
        return tr("doors.admin.unlocked", username=md(username), count=count)

    _run(action)


def _reset_password(username: str) -> None:
    password = st.session_state["reset_password"]

    def action(db: Session, actor: Principal) -> str:
        set_password(db, actor, username, password)
        return tr("dashboards.admin.password_reset", username=md(username))

    _run(action)
    st.session_state["reset_password"] = ""


# --- widgets --------------------------------------------------------------------------------
# Option labels are computed while the page runs: format_func may be called after the run.


def role_select(prefix: str) -> None:
    names = {role.value: tr(f"role.{role.value}") for role in Role}
    st.selectbox(
        tr("dashboards.admin.role"),
        options=list(names),
        index=list(names).index(Role.OFFICE_MANAGER.value),  # the least surprising default
        format_func=names.__getitem__,
        key=f"{prefix}_role",
    )


def scope_level_select(prefix: str) -> ScopeLevel:
    names = {level.value: tr(f"scope.{level.value}") for level in ScopeLevel}
    chosen = st.segmented_control(
        tr("dashboards.admin.scope_level"),
        options=list(names),
        format_func=names.__getitem__,
        default=ScopeLevel.OFFICE.value,
        required=True,
        key=f"{prefix}_level",
    )
    return ScopeLevel(chosen)


def scope_code_select(prefix: str, level: ScopeLevel, org: Org) -> None:
    if level is ScopeLevel.GROUP:
        return
    labels = {code: f"{name} ({code})" for code, name in org.scope_codes(level).items()}
    st.selectbox(
        tr(f"dashboards.admin.scope_{level.value}"),
        options=list(labels),
        format_func=labels.__getitem__,
        key=f"{prefix}_code",
        placeholder=tr("dashboards.admin.choose"),
    )


def supplier_select(org: Org) -> None:
    """The supplier of a supplier user (供方用户); none for the group's own staff."""
    labels = {code: f"{name} ({code})" for code, name in org.suppliers.items()}
    st.selectbox(
        tr("supplierusers.admin.supplier"),
        options=list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=tr("supplierusers.admin.no_supplier"),
        help=tr("supplierusers.admin.supplier_help"),
        key="new_supplier",
    )


def add_user_form(org: Org) -> None:
    st.caption(tr("dashboards.admin.add_hint"))
    level = scope_level_select("new")
    with st.form("add_user", width=560):
        st.text_input(tr("dashboards.admin.col.username"), key="new_username")
        st.text_input(tr("dashboards.admin.col.display_name"), key="new_display_name")
        st.text_input(tr("dashboards.login.password"), type="password", key="new_password")
        role_select("new")
        scope_code_select("new", level, org)
        supplier_select(org)
        st.form_submit_button(
            tr("dashboards.admin.add"),
            type="primary",
            width="stretch",
            on_click=_add_user,
            key="add_user_submit",
        )


def edit_user(users: list[UserView], org: Org) -> None:
    by_name = {u.username: u for u in users}
    names = {u.username: f"{u.username} · {u.display_name}" for u in users}
    username = st.selectbox(
        tr("dashboards.admin.pick_user"),
        options=list(names),
        format_func=names.__getitem__,
        key="edit_user",
    )
    if username is None:
        return
    user = by_name[username]

    with st.container(border=True, width=560):
        st.markdown(f"**{tr('dashboards.admin.col.roles')}**")
        grants = {grant: grant_text(grant, org) for grant in user.grants}
        keep = st.multiselect(
            tr("dashboards.admin.keep_roles"),
            options=list(grants),
            default=list(grants),
            format_func=grants.__getitem__,
            placeholder=tr("finish.placeholder.no_roles"),
            key="keep_" + "|".join([username, *(g.label() for g in user.grants)]),
        )
        st.button(
            tr("dashboards.admin.save_roles"),
            on_click=_save_grants,
            args=(username, keep),
            disabled=set(keep) == set(user.grants),
            key="save_roles",
        )
        st.markdown(f"**{tr('dashboards.admin.add_role')}**")
        role_select("extra")
        level = scope_level_select("extra")
        scope_code_select("extra", level, org)
        st.button(
            tr("dashboards.admin.add_role"),
            on_click=lambda: _save_grants(username, [*keep, _picked_grant("extra")]),
            key="add_role",
        )

    with st.container(border=True, width=560):
        status = tr("dashboards.admin.active" if user.is_active else "dashboards.admin.inactive")
        st.markdown(f"**{tr('dashboards.admin.account')}** · {status}")
        st.button(
            tr("dashboards.admin.disable" if user.is_active else "dashboards.admin.enable"),
            on_click=_set_active,
            args=(username, not user.is_active),
            key="toggle_active",
        )
        st.button(
            tr("doors.admin.unlock"),
            help=tr("doors.admin.unlock_help"),
            on_click=_unlock,
            args=(username,),
            key="unlock_logins",
        )

    with st.form("reset_password", width=560):
        st.markdown(f"**{tr('dashboards.admin.reset_title')}**")
        st.text_input(tr("dashboards.admin.new_password"), type="password", key="reset_password")
        st.form_submit_button(
            tr("dashboards.admin.reset"),
            on_click=_reset_password,
            args=(username,),
            key="reset_submit",
        )


def render() -> None:
    actor = require(Permission.MANAGE_USERS)
    st.title(tr("dashboards.admin.title"))
    show_flash()
    with unit_of_work(operational_engine()) as db:
        org = load_org(db)
        users = list_users(db, actor)

    listing, adding, editing = st.tabs(
        [
            tr("dashboards.admin.tab_list"),
            tr("dashboards.admin.tab_add"),
            tr("dashboards.admin.tab_edit"),
        ]
    )
    with listing:
        table = users_table(users, org)
        st.dataframe(table, hide_index=True, placeholder=tr("finish.table.missing"))
        excel_download(table, tr("dashboards.admin.title"), key="users_excel")
    with adding:
        add_user_form(org)
    with editing:
        edit_user(users, org)


render()
