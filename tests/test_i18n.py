"""The catalogue: both languages say everything, with the same placeholders, and nothing empty."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from operational.i18n import LANGUAGES, catalogue, t
from operational.models import Role, ScopeLevel

ROOT = Path(__file__).resolve().parents[1]
LITERAL_KEY = re.compile(r"""\btr?\(\s*["']([a-z_][a-z0-9_.]*)["']""")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_define_the_same_keys() -> None:
    zh, en = catalogue("zh_CN"), catalogue("en")
    assert sorted(zh.keys() - en.keys()) == []
    assert sorted(en.keys() - zh.keys()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_string_is_empty(language: str) -> None:
    empty = [key for key, text in catalogue(language).items() if not text.strip()]
    assert empty == []


def test_both_languages_use_the_same_placeholders() -> None:
    zh, en = catalogue("zh_CN"), catalogue("en")
    differing = [key for key in zh if _placeholders(zh[key]) != _placeholders(en[key])]
    assert differing == []


def test_every_role_and_scope_has_a_name() -> None:
    for language in LANGUAGES:
        for role in Role:
            assert t(f"role.{role.value}", language)
        for level in ScopeLevel:
            assert t(f"scope.{level.value}", language)


def test_every_literal_key_in_the_dashboards_exists() -> None:
    used = {
        key
        for path in (ROOT / "dashboards").rglob("*.py")
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "the pattern no longer finds the dashboards' keys"
    assert sorted(used - catalogue("en").keys()) == []


def test_chinese_strings_are_chinese() -> None:
    assert t("tower.title", "zh_CN") == "运营驾驶舱"
    assert t("tower.title", "en") == "Control tower"
