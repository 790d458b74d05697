"""Streamlit's own texts in the user's language (dashboards/frontend_i18n.py): every page the
server sends carries the translation script, which is served with its table of texts.

The pages are Streamlit's real ``index.html`` served by Streamlit's own static handler (what
``st.App`` mounts), called as an ASGI app, as the server would, with the middleware around it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from typing import Any

import pytest
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Router
from starlette.types import ASGIApp
from streamlit import file_util
from streamlit.web.server.starlette.starlette_static_routes import (
    create_streamlit_static_handler,
)

from dashboards import frontend_i18n
from operational.i18n import catalogue
from tests.async_support import run_coroutine


def get(
    app: ASGIApp, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent: list[dict[str, Any]] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the client stays connected until the response is complete
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_coroutine(app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    heads = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], heads, body


def streamlit_pages() -> ASGIApp:
    static = create_streamlit_static_handler(file_util.get_static_dir(), None)
    return frontend_i18n.InjectScript(GZipMiddleware(static, minimum_size=10))


@pytest.mark.parametrize("path", ["/", "/energy", "/reading"])
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_every_page_carries_the_translation_script_once(path: str, encoding: str) -> None:
    status, headers, body = get(streamlit_pages(), path, {"accept-encoding": encoding})
    assert status == 200
    page = body.decode("utf-8")
    assert page.count(frontend_i18n.script_tag()) == 1
    head = page[: page.index("</head>")]
    assert '<script defer src="/_propcloud/frontend-i18n.js"' in head
    assert 'data-texts="/_propcloud/frontend-texts.json"' in head
    assert headers["content-length"] == str(len(body))
    assert "content-encoding" not in headers and "etag" not in headers


def test_other_files_pass_through_unchanged() -> None:
    static = create_streamlit_static_handler(file_util.get_static_dir(), None)
    status, _, plain = get(static, "/manifest.json")
    assert status == 200
    assert get(streamlit_pages(), "/manifest.json")[2] == plain
    _, headers, packed = get(streamlit_pages(), "/manifest.json", {"accept-encoding": "gzip"})
    assert headers.get("content-encoding") == "gzip" and gzip.decompress(packed) == plain


def test_the_script_and_its_table_are_served() -> None:
    router = Router(routes=frontend_i18n.routes())
    status, headers, body = get(router, "/_propcloud/frontend-i18n.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"MutationObserver" in body
    status, headers, body = get(router, "/_propcloud/frontend-texts.json")
    assert status == 200 and headers["content-type"] == "application/json"
    table = json.loads(body)["zh_CN"]
    assert table["texts"]["Choose an option"] == "请选择"
    assert table["texts"]["Search"] == "搜索"
    assert table["texts"]["Download as CSV"] == "下载为 CSV"
    assert table["texts"]["Please wait..."] == "请稍候…"
    assert "en" not in json.loads(body)  # English is what Streamlit already shows


def _translate(table: dict[str, Any], text: str) -> str:
    """What the script makes of ``text`` (its lookup, in Python)."""
    if text in table["texts"]:
        return str(table["texts"][text])
    for pattern, template in table["patterns"]:
        match = re.fullmatch(pattern.replace("(?<", "(?P<"), text)
        if match:
            return str(template).format(**match.groupdict())
    return text


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("200MB per file", "每个文件不超过 200MB"),
        ("Help for 工单时效达标率", "“工单时效达标率”的说明"),
        ("Remove 集团管理员 · 全集团", "移除 集团管理员 · 全集团"),
        ("No results", "无匹配结果"),
        ("一个对象 Search", "一个对象 Search"),  # only whole texts are Streamlit's
    ],
)
def test_the_table_turns_streamlits_english_into_chinese(english: str, chinese: str) -> None:
    assert _translate(frontend_i18n.texts()["zh_CN"], english) == chinese


def test_every_text_is_translated_and_no_two_english_texts_collide() -> None:
    en, zh = catalogue("en"), catalogue("zh_CN")
    keys = [k for k in en if k.startswith(("finish.frontend.", "finish.frontend_pattern."))]
    assert len(keys) > 40
    assert all(en[k] != zh[k] for k in keys)
    english = [en[k] for k in keys if k.startswith("finish.frontend.")]
    assert len(english) == len(set(english))
