"""Errors the rules raise; the service layer passes them up and views translate them."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (the view does)."""
    return message


class DomainError(Exception):
    """A rule refused the input; ``message`` is readable by the person who sent it."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    """The named thing does not exist."""


class Conflict(DomainError):
    """The request contradicts the current state (duplicate name, invalid transition)."""


class InvalidInput(DomainError):
    """Input that fails a rule, optionally per field."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None, **params: object):
        super().__init__(message, **params)
        self.field_errors = field_errors or {}
