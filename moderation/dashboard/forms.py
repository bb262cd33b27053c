"""Dashboard forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
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
from wtforms.widgets import CheckboxInput, ListWidget

from moderation.domain.sites import CommentFormat, SitePolicy
from moderation.domain.status import ModerationAction
from moderation.models import ModeratorRole
from moderation.services.events import EVENT_TYPES
from moderation.services.integrations import SCOPES

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
    #: absent from a post (an older form): the format stays as it is
    comment_format = SelectField(
        "Comment format",
        choices=[SelectChoice(choice.value) for choice in CommentFormat],
        validate_choice=False,
    )
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
    spam_hold_threshold = FloatField(
        "Classifier: hold from score", validators=[NumberRange(0.01, 1.0)], default=0.40
    )
    spam_threshold = FloatField(
        "Classifier: spam from score", validators=[NumberRange(0.01, 1.0)], default=0.80
    )
    hold_first_comments = IntegerField(
        "Hold the first N comments of a new author (0: off)",
        validators=[NumberRange(0, 100)],
        default=0,
    )
    challenge_suspicious = BooleanField(
        "Ask suspicious submissions to solve a proof-of-work challenge (ALTCHA)"
    )


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


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]
    """Several choices as checkboxes (rendered by the ``checkboxes`` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IntegrationSettingsForm(FlaskForm):  # type: ignore[misc]
    """What an admin may change on an integration after creating it."""

    target_url = StringField(
        "Webhook URL (outbound events)",
        # no URL validator here: the service applies the one outbound rule (and its words)
        validators=[Optional(), Length(max=2000)],
    )
    events = CheckboxesField("Events", choices=[SelectChoice(event) for event in EVENT_TYPES])
    scopes = CheckboxesField("Scopes", choices=[SelectChoice(scope) for scope in SCOPES])
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


class NotifyForm(FlaskForm):  # type: ignore[misc]
    """A moderator's own notification settings (per-site choices come as ``mode-<slug>``)."""

    email = StringField("Email for notifications", validators=[Length(max=100)])
    mode = SelectField(
        "On every site",
        choices=[
            SelectChoice("each", "An email for each held comment"),
            SelectChoice("digest", "A digest"),
            SelectChoice("none", "Nothing"),
        ],
    )


class ChatHookForm(FlaskForm):  # type: ignore[misc]
    """A Slack-compatible incoming-webhook URL for a site."""

    site = SelectField("Site")
    url = StringField("Incoming-webhook URL", validators=[DataRequired(), Length(max=2000)])


class IntegrationForm(IntegrationSettingsForm):
    """A new integration: its name and site, then its settings."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    site = SelectField("Site", choices=[])


class ExportForm(FlaskForm):  # type: ignore[misc]
    """Download a site's comments (issue 18)."""

    site = SelectField("Site", choices=[])
    format = SelectField(
        "Format",
        choices=[SelectChoice("jsonl", "JSON lines"), SelectChoice("wxr", "WordPress (WXR)")],
        default="jsonl",
    )
    include_emails = BooleanField("Include commenters' emails (personal data)")


class PersonForm(FlaskForm):  # type: ignore[misc]
    """Find a person by email address, to export or erase their data."""

    email = StringField("Email address", validators=[DataRequired(), Length(max=320)])
    mode = SelectField(
        "Erasure",
        choices=[
            SelectChoice("anonymise", "Anonymise: keep the words, remove the person"),
            SelectChoice("delete", "Delete their comments"),
        ],
        default="anonymise",
    )
    confirm_erase = BooleanField("Yes, erase this person's data")
