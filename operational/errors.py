"""Domain errors: raised by services and imports, shown to the user in their language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class FieldProblem:
    """One problem of one field of a submitted form: the field's name (as the service calls it,
    e.g. ``"objects"``), a catalogue key and its parameters."""

    field: str
    key: str
    params: Mapping[str, object]

    def message(self, language: str) -> str:
        return render(self.key, language, self.params)


class FormRejected(DomainError):
    """A form refused with every problem found, not just the first (``problems``, in the order
    of the form's fields). Nothing was written. With one problem it is that problem (its key,
    parameters and message), so a caller that knows only :class:`DomainError` sees no
    difference; with several its key is ``forms.rejected`` and its message a heading and one
    line per problem. Pages show :meth:`messages` as a list next to the form."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("a rejected form has at least one problem")
        if len(problems) == 1:
            super().__init__(problems[0].key, **problems[0].params)
        else:
            super().__init__("forms.rejected", count=len(problems))
        self.problems = tuple(problems)

    def messages(self, language: str) -> list[str]:
        return [p.message(language) for p in self.problems]

    def message(self, language: str) -> str:
        lines = self.messages(language)
        if len(lines) == 1:
            return lines[0]
        return "\n".join([render(self.key, language, self.params), *(f"- {x}" for x in lines)])

    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class Problems:
    """Collects the problems of one form so that a service checks every field before refusing::

    problems = Problems()
    if not name.strip():
        problems.add("name", "plans.name_required")
    with problems.field("every"):
        entry.check_integer(every, "every")  # a DomainError becomes the field's problem
    problems.raise_if_any()  # one FormRejected listing all of them
    """

    def __init__(self, order: Sequence[str] = ()) -> None:
        """``order``: the form's fields in the order its problems are to be listed."""
        self._items: list[FieldProblem] = []
        self._order = tuple(order)

    def add(self, field: str, key: str, **params: object) -> None:
        self._items.append(FieldProblem(field, key, params))

    def field(self, field: str) -> _Catch:
        return _Catch(self, field)

    def has(self, field: str) -> bool:
        return any(p.field == field for p in self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            rank = {name: i for i, name in enumerate(self._order)}
            raise FormRejected(
                sorted(self._items, key=lambda p: rank.get(p.field, len(self._order)))
            )


class _Catch:
    """``with problems.field(name):`` — a :class:`DomainError` raised inside becomes a problem
    of ``name`` (a :class:`FormRejected` adds its problems) instead of ending the check."""

    def __init__(self, problems: Problems, field: str) -> None:
        self._problems = problems
        self._field = field

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> bool:
        if isinstance(error, FormRejected):
            self._problems._items.extend(error.problems)
            return True
        if isinstance(error, DomainError):
            self._problems.add(self._field, error.key, **error.params)
            return True
        return False
