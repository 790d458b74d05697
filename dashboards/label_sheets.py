"""A QR label sheet (A4 PDF) of the records a user picks on a page — objects, metering points:
the pick list, the button that makes the sheet in one unit of work as the user, and its
download. The records offered and the maker are the page's; the sheet is the user's own for the
office it was made for."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st
from sqlalchemy.orm import Session

from dashboards.session import error_text, flash, language, operational_engine, settings, tr
from operational.auth import Principal
from operational.db import unit_of_work
from operational.errors import DomainError

Maker = Callable[..., bytes]
"""``maker(session, principal, office_code, base_url, language, codes=[…])`` → the PDF."""


def _make(prefix: str, maker: Maker, user: Principal, office_code: str) -> None:
    codes = list(st.session_state.get(f"{prefix}_label_codes") or [])
    st.session_state[f"{prefix}_label_pdf"] = None
    if not codes:
        flash(tr("selfservice.labels.none_chosen"), ok=False)
        return
    try:
        with unit_of_work(operational_engine()) as db:
            pdf = _call(maker, db, user, office_code, codes)
    except DomainError as refused:
        flash(error_text(refused), ok=False)
        return
    st.session_state[f"{prefix}_label_pdf"] = (office_code, tuple(codes), pdf)


def _call(maker: Maker, db: Session, user: Principal, office_code: str, codes: list[str]) -> bytes:
    return maker(db, user, office_code, settings().base_url, language(), codes=codes)


def label_sheet(
    *,
    prefix: str,
    user: Principal,
    office_code: str,
    offered: Mapping[str, str],
    choose_key: str,
    maker: Maker,
    file_stem: str,
) -> None:
    """The picker of ``offered`` (code → what the list shows; ``choose_key``: its label's
    catalogue key), the button and, once made, the download of ``<file_stem>-<office>.pdf``.
    Widget keys start with ``prefix`` (``obj`` → ``obj_label_codes``, ``obj_label_make``)."""
    st.multiselect(
        tr(choose_key),
        list(offered),
        format_func=offered.__getitem__,
        key=f"{prefix}_label_codes",
        placeholder=tr("selfservice.labels.choose_hint"),
    )
    st.button(
        tr("selfservice.labels.make"),
        on_click=_make,
        args=(prefix, maker, user, office_code),
        key=f"{prefix}_label_make",
        icon=":material/qr_code_2:",
    )
    made = st.session_state.get(f"{prefix}_label_pdf")
    if made and made[0] == office_code:
        st.download_button(
            tr("selfservice.labels.download", count=len(made[1])),
            data=made[2],
            file_name=f"{file_stem}-{office_code}.pdf",
            mime="application/pdf",
            key=f"{prefix}_label_download",
            icon=":material/download:",
            on_click="ignore",
        )
