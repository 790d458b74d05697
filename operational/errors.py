"""Domain errors: raised by services and imports, shown to the user in their language."""

from __future__ import annotations

from operational.i18n import t


class DomainError(Exception):
    """A request the domain refuses, with a catalogue key and parameters for the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str) -> str:
        return t(self.key, language, **self.params)

    def __str__(self) -> str:
        return self.message("en")


class NotFound(DomainError):
    """The thing named does not exist (or is outside the user's scope)."""


class PermissionDenied(DomainError):
    """The user's roles do not allow this action."""


class StaleVersion(DomainError):
    """Someone else changed the record after the form was opened."""
