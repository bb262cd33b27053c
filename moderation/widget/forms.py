"""The comment form: WordPress's fields and names; the rules themselves live in domain/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from moderation.domain.comments import (
    CommentDraft,
    FieldError,
    clean_author,
    clean_email,
    clean_parent,
    clean_text,
    clean_url,
)


def _apply(field: Field, cleaner: Callable[[Any], Any]) -> None:
    """Run a domain rule on a field; keep the cleaned value or raise a translated error."""
    if field.data is not None and not isinstance(field.data, str):
        raise ValidationError(gettext("This field must be text."))
    try:
        field.data = cleaner(field.data if field.data is not None else "")
    except FieldError as error:
        raise ValidationError(gettext(error.message, **error.params)) from None


class CommentForm(FlaskForm):  # type: ignore[misc]
    """Comment*, Name*, Email*, Website, remember-me, and hidden plumbing.

    The widget is cross-site, so there is no session CSRF token: a signed, single-use
    form token and the origin allowlist protect it instead.
    """

    class Meta:
        csrf = False

    comment = TextAreaField(_l("Comment"))
    author = StringField(_l("Name"))
    email = StringField(_l("Email"))
    url = StringField(_l("Website"))
    remember = BooleanField(
        _l("Save my name, email, and website in this browser for the next time I comment.")
    )
    comment_parent = HiddenField(default="0")
    form_token = HiddenField()
    #: The honeypot: hidden from people, filled in by bots.
    contact_phone = StringField(_l("Leave this field empty"))

    check_deliverability = False

    def validate_comment(self, field: Field) -> None:
        _apply(field, clean_text)

    def validate_author(self, field: Field) -> None:
        _apply(field, clean_author)

    def validate_email(self, field: Field) -> None:
        _apply(field, lambda value: clean_email(value, self.check_deliverability))

    def validate_url(self, field: Field) -> None:
        _apply(field, clean_url)

    def validate_comment_parent(self, field: Field) -> None:
        _apply(field, clean_parent)

    @property
    def honeypot_filled(self) -> bool:
        """Whether a bot filled the hidden field."""
        return bool((self.contact_phone.data or "").strip())

    def draft(self) -> CommentDraft:
        """The validated comment."""
        return CommentDraft(
            text=self.comment.data,
            author=self.author.data,
            email=self.email.data,
            url=self.url.data or "",
            parent_id=self.comment_parent.data,
        )

    def field_errors(self) -> dict[str, str]:
        """The first message of each invalid field."""
        return {name: errors[0] for name, errors in self.errors.items() if errors}
