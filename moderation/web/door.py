"""The browser door: the widget's form post and the JSON API's submission both come in
here. Both are cross-site, so the same protection stands in front of the one pipeline:
the site's exact origins (``Origin``, else ``Referer``), the domain's field rules, and a
signed, single-use form token."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import abort, current_app, request
from flask_babel import gettext

from moderation.clock import utcnow
from moderation.domain.comments import validate_draft
from moderation.services import challenges, form_tokens, submissions
from moderation.services.sites import SiteInfo
from moderation.services.submissions import SubmissionContext, SubmissionResult
from moderation.web.origins import request_origin, site_allows
from moderation.web.templating import reader_language


def refuse_foreign_origin(site: SiteInfo) -> None:
    """403 unless the request comes from one of the site's origins (or this service's own
    pages, where the widget's form lives)."""
    origin = request_origin()
    if not site_allows(site, origin, include_own=True):
        abort(
            403,
            description=gettext(
                "Comments for this site cannot be posted from %(origin)s.",
                origin=origin or gettext("an unknown page"),
            ),
        )


def submit_from_browser(
    site: SiteInfo,
    thread_key: str,
    read_fields: Callable[[], Mapping[str, object]],
    source: str,
    thread_title: str = "",
    thread_url: str = "",
) -> SubmissionResult:
    """Check the origin, read the fields (``read_fields`` may refuse the body), validate
    them, check the form token, and submit; refusals are raised as domain errors."""
    refuse_foreign_origin(site)
    fields = read_fields()
    draft = validate_draft(fields, bool(current_app.config["EMAIL_CHECK_DELIVERABILITY"]))
    now = utcnow()
    token = form_tokens.check_submitted(
        str(fields.get("form_token") or ""), site.slug, thread_key, now
    )
    return submissions.submit_comment(
        draft,
        SubmissionContext(
            site_slug=site.slug,
            thread_key=thread_key,
            client_ip=request.remote_addr or "",
            now=now,
            user_agent=request.user_agent.string,
            source=source,
            form_token=token,
            honeypot_filled=bool(str(fields.get("contact_phone") or "").strip()),
            thread_title=thread_title,
            thread_url=thread_url,
            notify=wants_notifications(fields.get("notify")),
            language=reader_language().code,
            can_challenge=True,
            challenge_answer=str(fields.get(challenges.FIELD) or ""),
        ),
    )


def wants_notifications(value: object) -> bool:
    """The ``notify`` field: a ticked checkbox ("y", "on", "1") or JSON ``true``."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("y", "yes", "on", "1", "true")
