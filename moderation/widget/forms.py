"""The comment form: WordPress's fields and names, rendered with WTForms. Its fields are
checked by the domain's rules (``validate_draft``) at the browser door, like every door's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField


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
    notify = BooleanField(_l("Notify me of follow-up comments by email."))
    comment_parent = HiddenField(default="0")
    form_token = HiddenField()
    #: The honeypot: hidden from people, filled in by bots.
    contact_phone = StringField(_l("Leave this field empty"))

    def show_errors(self, field_errors: dict[str, str]) -> None:
        """Put each field's (translated) message next to it."""
        for name, message in field_errors.items():
            getattr(self, name).errors = [message]
