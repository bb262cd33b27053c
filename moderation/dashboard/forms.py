"""Dashboard forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from moderation.domain.sites import SitePolicy
from moderation.domain.status import ModerationAction
from moderation.models import ModeratorRole
from moderation.services.events import EVENT_TYPES

ACTIONS = [SelectChoice(action.value, action.value.title()) for action in ModerationAction]


class SignInForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class ConfirmPasswordForm(FlaskForm):  # type: ignore[misc]
    """The signed-in moderator's password, asked again before a sensitive action."""

    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class ModerateForm(FlaskForm):  # type: ignore[misc]
    """One decision on one comment."""

    action = SelectField("Action", choices=ACTIONS)
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
    next = HiddenField()


class BulkForm(FlaskForm):  # type: ignore[misc]
    """One decision on a selection, or on everything matching the current filter."""

    action = SelectField("Action", choices=ACTIONS)
    ids = SelectMultipleField("Comments", coerce=int, validate_choice=False)
    all_matching = BooleanField("Everything matching this filter")
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
    next = HiddenField()


class EditForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        "Text", validators=[InputRequired("Write the comment's text; it cannot be empty.")]
    )


class ReplyForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField("Your reply", validators=[InputRequired("Write your reply first.")])


class SiteForm(FlaskForm):  # type: ignore[misc]
    """A site's settings."""

    slug = StringField("Slug", validators=[Optional(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired("Give the site a name."), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins (one per line)",
        validators=[DataRequired("Name at least one origin, e.g. https://blog.example.com.")],
    )
    policy = SelectField("Policy", choices=[SelectChoice(policy.value) for policy in SitePolicy])
    max_links = IntegerField(
        "Links before a comment is held", validators=[NumberRange(0, 100)], default=2
    )
    flood_seconds = IntegerField(
        "Seconds between two comments of one person", validators=[NumberRange(0, 3600)], default=15
    )
    max_depth = IntegerField("Reply depth", validators=[NumberRange(1, 10)], default=5)
    page_size = IntegerField(
        "Top-level comments per page", validators=[NumberRange(5, 500)], default=50
    )
    submit_limit = StringField(
        "Comments per site (e.g. 600/hour; empty for the default)",
        validators=[Optional(), Length(max=100)],
    )
    moderation_words = TextAreaField("Moderation words (hold the comment)")
    blocked_words = TextAreaField("Blocked words (mark as spam)")


class SiteChoiceField(SelectMultipleField):  # type: ignore[misc]
    """Sites as a list of checkboxes (choices filled by the view); none ticked: every site."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ModeratorForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        "Username", validators=[DataRequired("Choose a username."), Length(max=64)]
    )
    role = SelectField("Role", choices=[SelectChoice(role.value) for role in ModeratorRole])
    password = PasswordField(
        "Password", validators=[DataRequired("Choose a password."), Length(max=1024)]
    )
    sites = SiteChoiceField("Sites", choices=[])


class ModeratorSitesForm(FlaskForm):  # type: ignore[misc]
    """The sites one account may see."""

    sites = SiteChoiceField("Sites", choices=[])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that only needs a CSRF token (deactivate, reset, rotate...)."""


class IntegrationForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    site = SelectField("Site", choices=[])
    target_url = StringField(
        "Webhook URL (outbound events)",
        # no URL validator here: the service applies the one outbound rule (and its words)
        validators=[Optional(), Length(max=2000)],
    )
    events = SelectMultipleField("Events", choices=[SelectChoice(event) for event in EVENT_TYPES])
    scopes = SelectMultipleField(
        "Scopes", choices=[SelectChoice(scope) for scope in ("submit", "moderate", "threads")]
    )
    allow_email = BooleanField("May see commenters' email addresses")


class DisplayNameForm(FlaskForm):  # type: ignore[misc]
    display_name = StringField(
        "Name on your replies",
        validators=[Length(max=245, message="Keep the name under 246 characters.")],
    )


class OwnPasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(
        "Current password", validators=[DataRequired("Type your current password.")]
    )
    new = PasswordField(
        "New password",
        validators=[DataRequired("Choose a new password."), Length(max=1024)],
    )
    repeat = PasswordField(
        "New password again",
        validators=[EqualTo("new", message="The two new passwords differ; type them again.")],
    )
