"""The forms of the data-rights pages (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import ValidationError

from moderation.domain.comments import clean_email
from moderation.domain.errors import FieldError
from moderation.web.errors import localized


class PersonRequestForm(FlaskForm):  # type: ignore[misc]
    """The address to send the link to."""

    email = StringField(_l("Your email address"))

    def validate_email(self, field: StringField) -> None:
        """A well-formed address (the same check as the comment form's); the normal form
        replaces what was typed."""
        try:
            field.data = clean_email(field.data or "")
        except FieldError as error:
            raise ValidationError(localized(error.message, error.params)) from None


class LinkActionForm(FlaskForm):  # type: ignore[misc]
    """The download button: only its CSRF token."""


class EraseForm(FlaskForm):  # type: ignore[misc]
    """The erasure's confirmation."""

    confirm = BooleanField(_l("Yes, erase my data. This cannot be undone."))
