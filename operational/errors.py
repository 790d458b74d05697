"""Domain errors: raised by services and imports, shown to the user in their language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from operational.i18n import t


@dataclass(frozen=True)
class Term:
    """A message parameter that is itself a catalogue entry (a field's name), shown in the
    message's language: ``DomainError("entry.number.too_large", column=Term("entry.field.reading"))``.
    """

    key: str

    def __str__(self) -> str:
        return t(self.key, "en")


def render(key: str, language: str, params: Mapping[str, object]) -> str:
    """The message ``key`` in ``language`` with ``params``, :class:`Term` ones translated."""
    return t(
        key,
        language,
        **{k: t(v.key, language) if isinstance(v, Term) else v for k, v in params.items()},
    )


class DomainError(Exception):
    """A request the domain refuses, with a catalogue key and parameters for the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str) -> str:
        return render(self.key, language, self.params)

    def __str__(self) -> str:
        return self.message("en")


class NotFound(DomainError):
    """The thing named does not exist (or is outside the user's scope)."""


class PermissionDenied(DomainError):
    """The user's roles do not allow this action."""


class StaleVersion(DomainError):
    """Someone else changed the record after the form was opened."""


class Refused(DomainError):
    """A form's submission refused for several reasons at once: every problem, each naming its
    field, so the user corrects them all in one go (nothing was written)."""

    def __init__(self, problems: list[DomainError]) -> None:
        super().__init__("selfservice.form.refused", count=len(problems))
        self.problems = list(problems)
