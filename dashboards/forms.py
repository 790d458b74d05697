"""What a refused form shows, next to the form: every problem at once, nothing typed lost.

A form's submit runs a callback that calls a service; the service checks every field and
refuses with one :class:`operational.errors.FormRejected` listing them all (or a single
:class:`~operational.errors.DomainError`). The callback keeps the refusal with :func:`refuse`;
the page shows it inside the form with :func:`problems`, just above the submit button, until the
next submit of that form succeeds (:func:`accept`). The form's widgets keep their keys and their
values: a refusal changes nothing a user typed.

Why inside the form: a message added above the form (the page's flash) moved every element
below it down by one, so Streamlit's browser client took the form's expander for a new element
and drew it collapsed — the typed form vanished from view after each refusal, and the next
submit went unseen. :func:`problems` always draws one container at the same place (empty when
there is nothing to say), so nothing around it moves, and :func:`expanded` keeps the form's
expander open while its problems are shown.
"""

from __future__ import annotations

import streamlit as st

from dashboards.session import language
from dashboards.text import md
from operational.errors import DomainError, FormRejected

_KEY = "form_refused::"


def refuse(form: str, error: DomainError) -> None:
    """Keep ``error`` as the outcome of the last submit of ``form`` (call it in the callback)."""
    st.session_state[_KEY + form] = error


def accept(form: str) -> None:
    """The last submit of ``form`` succeeded: its problems are gone."""
    st.session_state.pop(_KEY + form, None)


def refused(form: str) -> DomainError | None:
    found = st.session_state.get(_KEY + form)
    return found if isinstance(found, DomainError) else None


def expanded(form: str) -> bool:
    """Whether the expander around ``form`` opens: while the form shows problems."""
    return refused(form) is not None


def messages(error: DomainError) -> list[str]:
    """Every problem of ``error`` in the user's language, in the form's order."""
    if isinstance(error, FormRejected):
        return error.messages(language())
    return [error.message(language())]


def problems(form: str) -> None:
    """Inside ``form``: one error box listing every problem of its last refused submit."""
    slot = st.container()
    error = refused(form)
    if error is None:
        return
    lines = messages(error)
    if len(lines) == 1:
        slot.error(md(lines[0]), icon=":material/error:")
    else:
        heading = error.message(language()).splitlines()[0]
        slot.error(
            md(heading) + "\n" + "\n".join(f"- {md(line)}" for line in lines),
            icon=":material/error:",
        )
