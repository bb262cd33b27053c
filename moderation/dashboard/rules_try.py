"""The dry run in the dashboard: try a rule change on a site's past decisions."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional

from moderation.dashboard.auth import admin_required
from moderation.dashboard.blueprint import bp, found_or_404
from moderation.domain.errors import DomainError
from moderation.domain.sites import SitePolicy
from moderation.services import dry_run, rule_record, sites


class RulesTryForm(FlaskForm):  # type: ignore[misc]
    """A proposed change; sent by GET because trying it changes nothing."""

    class Meta:
        csrf = False

    last = IntegerField(
        "Decided comments to replay", [Optional(), NumberRange(1, 5000)], default=200
    )
    policy = SelectField(
        "Policy",
        choices=[SelectChoice("", "(as today)"), *(SelectChoice(p.value) for p in SitePolicy)],
        default="",
    )
    max_links = IntegerField("Links before a comment is held", [Optional(), NumberRange(0, 100)])
    moderation_words = TextAreaField("Moderation words (empty: as today)")
    blocked_words = TextAreaField("Blocked words (empty: as today)")
    blocks = TextAreaField("Block list entries to add, one KIND:VALUE a line")
    spam_hold_threshold = FloatField("Classifier: hold from score", [Optional()])
    spam_threshold = FloatField("Classifier: spam from score", [Optional()])
    hold_first_comments = IntegerField("Hold a new author's first N", [Optional()])


@bp.get("/sites/<slug>/try")
@admin_required
def try_site_rules(slug: str) -> ResponseReturnValue:
    """The form, and once it is filled in, what the change would have done."""
    site = found_or_404(lambda: sites.get_site(slug))
    form = RulesTryForm(formdata=request.args if request.args else None)
    report, status, error_message = None, 200, ""
    if request.args and form.validate():
        blocks = []
        for line in (form.blocks.data or "").splitlines():
            if line.strip():
                kind, _, value = line.strip().partition(":")
                blocks.append((kind, value))
        proposal = dry_run.Proposal(
            policy=form.policy.data or None,
            max_links=form.max_links.data,
            moderation_words=form.moderation_words.data or None,
            blocked_words=form.blocked_words.data or None,
            blocks=tuple(blocks),
            spam_hold_threshold=form.spam_hold_threshold.data,
            spam_threshold=form.spam_threshold.data,
            hold_first_comments=form.hold_first_comments.data,
        )
        try:
            report = dry_run.try_rules(slug, proposal, form.last.data or 200)
        except DomainError as error:
            error_message, status = str(error), 400
    elif request.args:
        status = 400
    return render_template(
        "dashboard/rules_try.html",
        site=site,
        form=form,
        report=report,
        error=error_message,
        record=rule_record.site_record(slug),
    ), status
