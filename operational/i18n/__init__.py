"""The translation catalogue: every user-facing string in Simplified Chinese and English.

Strings live in TOML files next to this module, one pair per area of the product
(``core.zh_CN.toml`` / ``core.en.toml``, ``energy.zh_CN.toml`` / ``energy.en.toml``, …) so that
areas can grow without editing one another's files. Keys are dotted (``import.missing_column``);
values are ``str.format`` templates. The catalogue sits in ``operational`` because domain errors,
the command line and the dashboards all speak through it and every layer may import
``operational``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
_HERE = Path(__file__).parent


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(language: str) -> dict[str, str]:
    """All strings of one language; a key defined in two files is an error."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    merged: dict[str, str] = {}
    for path in sorted(_HERE.glob(f"*.{language}.toml")):
        flat: dict[str, str] = {}
        _flatten("", tomllib.loads(path.read_text(encoding="utf-8")), flat)
        clash = merged.keys() & flat.keys()
        if clash:
            raise ValueError(f"{path.name} redefines {sorted(clash)}")
        merged.update(flat)
    return merged


def t(key: str, language: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The text for ``key`` in ``language``, with ``params`` filled in.

    A missing key is a bug, so it raises rather than showing the key to a user; the test suite
    checks that both languages define the same keys.
    """
    template = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return template.format(**params) if params else template
