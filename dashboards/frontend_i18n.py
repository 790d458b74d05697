"""Streamlit's own texts in the user's language.

Streamlit's frontend has no translations: "Choose an option", "Drag and drop files here",
"200MB per file", the table toolbar's "Search" and "Download as CSV", "Connecting", "Please
wait..." are English in every app. Widgets that take a ``placeholder`` get a translated one from
the pages; for everything else the server adds one small script to every page it sends
(``dashboards/static/frontend_i18n.js``), which replaces the English texts it knows in the page
as Streamlit renders them:

- the texts are the catalogue's ``finish.frontend.*`` keys: the English file holds Streamlit's
  text exactly as the frontend writes it, the other languages their translation;
  ``finish.frontend_pattern.*`` are texts with a part that varies (``{size} per file``), the part
  named by the same placeholder in every language;
- :func:`routes` serves the script and the table as JSON; :class:`InjectScript` adds the
  ``<script>`` tag to the HTML page (``dashboards/server.py``);
- the page's language is the ``propcloud_lang`` cookie, which :func:`tell_language` has the
  browser set whenever the session's language changes (login page and sidebar alike).

The same script closes the sidebar after a page is chosen in it on a phone-wide screen, where
Streamlit leaves it open over the page.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config

from operational.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue

SCRIPT_FILE = Path(__file__).with_name("static") / "frontend_i18n.js"
SCRIPT_ROUTE = "_propcloud/frontend-i18n.js"
TEXTS_ROUTE = "_propcloud/frontend-texts.json"
COOKIE = "propcloud_lang"
SOURCE_LANGUAGE = "en"  # the language Streamlit's frontend is written in
TEXT_PREFIX = "finish.frontend."
PATTERN_PREFIX = "finish.frontend_pattern."
SENT_KEY = "frontend_language_sent"  # the language this tab's browser was last told
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _base_path() -> str:
    """``/`` or ``/<server.baseUrlPath>/``."""
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def _pattern(template: str) -> str:
    """A JavaScript regular expression matching the whole of an English ``template``, its
    placeholders as named groups."""
    parts = _PLACEHOLDER.split(template)
    out = []
    for index, part in enumerate(parts):
        out.append(f"(?<{part}>.+?)" if index % 2 else re.escape(part))
    return "^" + "".join(out) + "$"


def texts() -> dict[str, dict[str, Any]]:
    """Per language other than Streamlit's own: ``texts`` (English → translation) and
    ``patterns`` (``[regular expression, template]``), from the catalogue."""
    source = catalogue(SOURCE_LANGUAGE)
    out: dict[str, dict[str, Any]] = {}
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        translated = catalogue(language)
        out[language] = {
            "texts": {
                source[key]: translated[key] for key in source if key.startswith(TEXT_PREFIX)
            },
            "patterns": [
                [_pattern(source[key]), translated[key]]
                for key in source
                if key.startswith(PATTERN_PREFIX)
            ],
        }
    return out


def script_tag() -> str:
    """The tag added to the ``<head>`` of every page."""
    base = _base_path()
    return (
        f'<script defer src="{base}{SCRIPT_ROUTE}" data-texts="{base}{TEXTS_ROUTE}" '
        f'data-default="{DEFAULT_LANGUAGE}"></script>'
    )


async def _script(request: Request) -> Response:
    return FileResponse(
        SCRIPT_FILE, media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


async def _texts(request: Request) -> Response:
    return JSONResponse(texts(), headers={"Cache-Control": "no-cache"})


def routes() -> list[BaseRoute]:
    """The script and its table, served beside Streamlit's own routes."""
    base = _base_path()
    return [
        Route(f"{base}{SCRIPT_ROUTE}", _script, methods=["GET"]),
        Route(f"{base}{TEXTS_ROUTE}", _texts, methods=["GET"]),
    ]


def inject(html: str) -> str:
    """``html`` with the script tag at the end of its ``<head>`` (once)."""
    if SCRIPT_ROUTE in html or "</head>" not in html:
        return html
    return html.replace("</head>", f"    {script_tag()}\n  </head>", 1)


class InjectScript:
    """ASGI middleware: adds :func:`script_tag` to every HTML page Streamlit serves (its
    ``index.html``, sent for ``/`` and for every page address)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                if message["status"] == 200 and headers.get("content-type", "").startswith(
                    "text/html"
                ):
                    held = message  # the page: kept until its whole body is here
                    return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(raw=held["headers"])
            raw = b"".join(body)
            if headers.get("content-encoding") == "gzip":
                raw = gzip.decompress(raw)
                del headers["content-encoding"]
            page = inject(raw.decode("utf-8")).encode("utf-8")
            # Changed content: no validators, so a browser never revalidates an older copy.
            for name in ("etag", "last-modified"):
                if name in headers:
                    del headers[name]
            headers["content-length"] = str(len(page))
            await send(held)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, rewrite)


def tell_language(language: str) -> None:
    """Have the browser keep ``language`` for the script (once per change, in this run)."""
    if st.session_state.get(SENT_KEY) == language or language not in LANGUAGES:
        return
    st.session_state[SENT_KEY] = language
    cookie = f"{COOKIE}={language}; path={_base_path()}; max-age=31536000; SameSite=Lax"
    # json.dumps of our own cookie text (a language code from LANGUAGES): nothing of a user's.
    st.html(
        f"<script>document.cookie = {json.dumps(cookie)};"
        "window.propcloudTexts && window.propcloudTexts.apply();</script>",
        width="content",
        unsafe_allow_javascript=True,
    )
