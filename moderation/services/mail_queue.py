"""The outbox side of notifications: settings, signed and hashed link tokens, links on the
public address, and queueing emails and chat messages (with the hourly email limits).

Emails and chat messages are rows of the same outbox as webhooks (``channel`` email or
chat); the delivery worker sends them with the same retries, backoff and dead state.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, insert, select

from moderation.clock import utcnow
from moderation.extensions import db
from moderation.models import ChatHook, Comment, DeliveryState, OutboxDelivery, Site, Thread
from moderation.services.events import SYSTEM, audit
from moderation.services.mail import MailSettings

log = logging.getLogger(__name__)

NOTIFY_MODES = ("each", "digest", "none")
DECISION_ACTIONS = ("approve", "reject", "spam")

# What the signed tokens in links are for (a token for one purpose opens nothing else).
SALT_CONFIRM = "notify-confirm"
SALT_UNSUBSCRIBE = "notify-unsubscribe"
SALT_MODERATOR_OFF = "notify-moderator-off"

_INSERT_OUTBOX = insert(OutboxDelivery)


def mail_settings() -> MailSettings:
    """The app's mail settings."""
    return MailSettings.from_config(current_app.config)


def signer(salt: str) -> URLSafeSerializer:
    """Signs the ids carried by confirmation and unsubscribe links."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def hash_token(token: str) -> str:
    """Decision links are stored as a hash: the database alone decides nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def link(settings: MailSettings, path: str) -> str:
    """An absolute link on the configured public address (never the request's Host)."""
    return settings.public_url + path


def site_and_thread(comment: Comment) -> tuple[Site, Thread]:
    """The comment's site and thread (a just-inserted comment has no relationships loaded)."""
    site = db.session.get(Site, comment.site_id)
    thread = db.session.get(Thread, comment.thread_id)
    if site is None or thread is None:  # pragma: no cover - foreign keys forbid it
        raise LookupError(f"comment {comment.id} lost its site or thread")
    return site, thread


def thread_link(comment: Comment, site: Site, thread: Thread, settings: MailSettings | None) -> str:
    """Where the comment will be seen: the host page when known, else the widget page."""
    anchor = f"#comment-{comment.id}"
    if thread.url:
        return thread.url + anchor
    if settings is None:
        return ""
    return link(settings, f"/w/{site.slug}?thread={thread.key}{anchor}")


# --- the outbox -------------------------------------------------------------------------


def queue_email(
    site_id: int,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    unsubscribe: str,
    comment_id: int | None = None,
) -> bool:
    """Render and queue one email, unless an hourly limit is reached (then audited)."""
    refusal = _over_limit(site_id, to)
    if refusal:
        audit(SYSTEM, "notify.refused", comment_id, site_id, reason=refusal)
        log.warning("notification not queued for site %s: %s", site_id, refusal)
        return False
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    _queue_email(to, subject, template, context, site_id, headers, comment_id)
    return True


def queue_personal_email(to: str, subject: str, template: str, context: dict[str, Any]) -> bool:
    """Render and queue an email a person asked for themselves (not about a site: no
    unsubscribe), unless the hourly limit per recipient is reached."""
    refusal = _over_limit(None, to)
    if refusal:
        audit(SYSTEM, "notify.refused", reason=refusal)
        log.warning("personal email not queued: %s", refusal)
        return False
    _queue_email(to, subject, template, context, None, {})
    return True


def _queue_email(
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    site_id: int | None,
    headers: dict[str, str],
    comment_id: int | None = None,
) -> None:
    """Render ``template`` (.txt and .html) and put the email in the outbox (with the
    comment it is about, so undoing a decision can find the emails it caused)."""
    payload: dict[str, Any] = {
        "to": to,
        "subject": subject,
        "text": render_template(f"{template}.txt", **context),
        "html": render_template(f"{template}.html", **context),
        "headers": {**headers, "Auto-Submitted": "auto-generated"},
    }
    if comment_id is not None:
        payload["comment_id"] = comment_id
    _insert("email", "mail." + template.rsplit("/", 1)[-1], payload, site_id, recipient=to)


def queue_chat(hook: ChatHook, text: str) -> None:
    """Queue one Slack-compatible message (``{"text": ...}``) for a chat hook."""
    _insert("chat", "chat.held", {"text": text}, hook.site_id, chat_hook_id=hook.id)


def _insert(
    channel: str,
    event_type: str,
    payload: dict[str, Any],
    site_id: int | None,
    recipient: str = "",
    chat_hook_id: int | None = None,
) -> None:
    now = utcnow()
    db.session.connection().execute(
        _INSERT_OUTBOX,
        {
            "message_id": f"msg_{secrets.token_hex(12)}",
            "integration_id": None,
            "event_type": event_type,
            "payload": payload,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
            "channel": channel,
            "recipient": recipient,
            "site_id": site_id,
            "chat_hook_id": chat_hook_id,
        },
    )


def _over_limit(site_id: int | None, to: str) -> str:
    """Why one more email would exceed an hourly limit, or ``""``."""
    since = utcnow() - timedelta(hours=1)
    config = current_app.config
    recent = select(func.count(OutboxDelivery.id)).where(
        OutboxDelivery.channel == "email", OutboxDelivery.created_at >= since
    )
    per_recipient = int(config["NOTIFY_LIMIT_PER_RECIPIENT"])
    if (
        db.session.execute(recent.where(OutboxDelivery.recipient == to)).scalar_one()
        >= per_recipient
    ):
        return f"hourly limit of {per_recipient} emails per recipient reached"
    per_site = int(config["NOTIFY_LIMIT_PER_SITE"])
    if (
        site_id is not None
        and db.session.execute(recent.where(OutboxDelivery.site_id == site_id)).scalar_one()
        >= per_site
    ):
        return f"hourly limit of {per_site} emails per site reached"
    return ""
