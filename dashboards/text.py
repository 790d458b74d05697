"""User text on a page is text: the one helper every page uses to put stored or typed text
(object, office and city names, notes, URL parameters) into Streamlit's Markdown elements and
into Plotly labels without it being read as Markdown or HTML.

Streamlit renders the body of ``st.markdown``, ``st.caption``, ``st.warning`` … and widget labels
as Markdown: an object named ``![](http://…)`` would load a remote image, ``[请重新登录](http://…)``
would be a live link, ``:red[…]`` would colour text. Plotly renders a subset of HTML in labels and
hover text (``<a href>`` becomes a link). So:

- :func:`md` escapes every ASCII punctuation character with a backslash (CommonMark allows it
  for all of them), which turns off links, images, emphasis, code, headings, lists, tables,
  Streamlit's ``:icon:`` and ``:color[…]`` directives, LaTeX (``$``) and bare-URL autolinks;
  line breaks become spaces so a value cannot start a block of its own.
- :func:`code_span` puts a value in an inline code span it cannot break out of (codes shown in
  monospace: ``st.caption(f"{code_span(card.code)} · {md(card.office_name)}")``).
- :func:`plot` escapes ``&``, ``<`` and ``>`` as HTML entities, which Plotly shows as the
  characters themselves.

Catalogue templates are ours and may carry Markdown; only the values put into them are escaped:
``st.warning(tr("objects.card.not_found", code=md(typed)))``. Text shown through ``st.text``,
``st.code``, ``st.dataframe`` and widget *values* is never interpreted and needs no escaping.
"""

from __future__ import annotations

import html
import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md(value: object) -> str:
    """``value`` as literal text inside Markdown (None shows as an empty string)."""
    if value is None:
        return ""
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))


def code_span(value: object) -> str:
    """``value`` as inline code in Markdown (a code, a serial number): fenced with more
    backticks than any run inside it, so it cannot close the span and start Markdown."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    return f"{fence}{padded}{fence}"


def plot(value: object) -> str:
    """``value`` as literal text in a Plotly label, tick or hover text."""
    if value is None:
        return ""
    return html.escape(str(value), quote=False)
