"""Errors the rules raise; the service layer passes them up and the web edge turns each
into an answer through one table (``moderation.web.errors``)."""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (the view does)."""
    return message


class DomainError(Exception):
    """A rule refused the input; ``message`` is readable by the person who sent it.

    ``params`` fill the message's placeholders; a ``timedelta`` among them is a duration
    the web edge writes out in the reader's language.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    """The named thing does not exist."""


class Conflict(DomainError):
    """The request contradicts the current state (duplicate name, invalid transition)."""


class InvalidInput(DomainError):
    """Input that fails a rule as a whole (malformed, or not possible here)."""


class FieldError(InvalidInput):
    """One field's value breaks a rule; the message is shown next to the field."""


class InvalidFields(InvalidInput):
    """Fields that fail their rules: a message per field."""

    def __init__(self, field_errors: Mapping[str, str | FieldError]) -> None:
        super().__init__(N_("Some fields need your attention."))
        #: each field's message, with its parameters
        self.field_errors = {
            name: error if isinstance(error, FieldError) else FieldError(error)
            for name, error in field_errors.items()
        }
