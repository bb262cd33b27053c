"""Notifications, queued in the transaction of the change that causes them: held comments
to moderators (email with single-use decision links, and chat), and to commenters who
confirmed their address, "your comment was approved" and approved replies.

Emails and chat messages are rows of the same outbox as webhooks (``channel`` email or
chat); the delivery worker sends them with the same retries, backoff and dead state.
With no mail server configured no email is queued at all (chat does not need one).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, insert, select

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import (
    ChatHook,
    Comment,
    DeliveryState,
    EmailLink,
    Moderator,
    ModeratorSiteNotify,
    NotifyAddress,
    OutboxDelivery,
    Site,
    Thread,
    ThreadSubscription,
)
from moderation.services.events import SYSTEM, audit
from moderation.services.mail import MailSettings

log = logging.getLogger(__name__)

NOTIFY_MODES = ("each", "digest", "none")
DECISION_ACTIONS = ("approve", "reject", "spam")
#: One confirmation email per address and site in this long, however often the box is ticked.
CONFIRMATION_INTERVAL = timedelta(hours=24)

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


# --- hooks the services call, in their transaction ------------------------------------


def after_submit(comment: Comment, notify: bool, language: str) -> None:
    """A comment was stored: subscribe its author if asked, tell moderators if it is held,
    and tell the parent's author if it was published at once as a reply."""
    settings = mail_settings()
    mail_ready = not settings.problem()
    if notify and mail_ready and comment.email:
        subscribe(comment, language, settings)
    if comment.status is CommentStatus.PENDING:
        held(comment, settings if mail_ready else None)
    elif comment.status is CommentStatus.APPROVED and mail_ready:
        tell_parent_author(comment, settings)


def after_decision(comment: Comment, before: CommentStatus, after: CommentStatus) -> None:
    """A comment changed status: on approval, its author and the parent's author hear."""
    if after is not CommentStatus.APPROVED or before is CommentStatus.APPROVED:
        return
    settings = mail_settings()
    if settings.problem():
        return
    tell_author_approved(comment, settings)
    tell_parent_author(comment, settings)


def site_and_thread(comment: Comment) -> tuple[Site, Thread]:
    """The comment's site and thread (a just-inserted comment has no relationships loaded)."""
    site = db.session.get(Site, comment.site_id)
    thread = db.session.get(Thread, comment.thread_id)
    if site is None or thread is None:  # pragma: no cover - foreign keys forbid it
        raise LookupError(f"comment {comment.id} lost its site or thread")
    return site, thread


# --- moderators -------------------------------------------------------------------------


def moderators_for(site_id: int, mode: str = "each") -> list[Moderator]:
    """Active moderators with an address whose choice for the site is ``mode``."""
    overrides = {
        row.moderator_id: row.mode
        for row in db.session.execute(
            select(ModeratorSiteNotify.moderator_id, ModeratorSiteNotify.mode).where(
                ModeratorSiteNotify.site_id == site_id
            )
        )
    }
    candidates = db.session.execute(
        select(Moderator)
        .where(Moderator.is_active.is_(True), Moderator.email != "")
        .order_by(Moderator.id)
    ).scalars()
    return [
        moderator
        for moderator in candidates
        if overrides.get(moderator.id, moderator.notify_mode) == mode
    ]


def held(comment: Comment, settings: MailSettings | None) -> None:
    """Email each moderator who wants it, and post to the site's chat hooks."""
    site, thread = site_and_thread(comment)
    context = {
        "comment": comment,
        "site": site,
        "thread": thread,
        "thread_link": thread_link(comment, site, thread, settings),
    }
    if settings is not None:
        for moderator in moderators_for(site.id):
            links = decision_links(comment.id, moderator.id, settings)
            off = moderator_off_link(moderator.id, site.id, settings)
            with force_locale("en"):
                queue_email(
                    site.id,
                    moderator.email,
                    f"[{site.name}] Comment awaiting moderation on {thread.title or thread.key}",
                    "mail/held",
                    {**context, "links": links, "moderator": moderator, "unsubscribe": off},
                    unsubscribe=off,
                    comment_id=comment.id,
                )
    hooks = db.session.execute(select(ChatHook).where(ChatHook.site_id == site.id)).scalars()
    for hook in hooks:
        queue_chat(hook, chat_text(context, settings))


def decision_links(comment_id: int, moderator_id: int, settings: MailSettings) -> dict[str, str]:
    """Approve, reject and spam links bound to this comment and moderator (one token,
    single-use, expiring), and the comment's page in the dashboard."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    db.session.add(
        EmailLink(
            token_hash=hash_token(token),
            comment_id=comment_id,
            moderator_id=moderator_id,
            created_at=now,
            expires_at=now + timedelta(days=float(current_app.config["NOTIFY_LINK_DAYS"])),
        )
    )
    links = {action: link(settings, f"/notify/m/{token}/{action}") for action in DECISION_ACTIONS}
    links["dashboard"] = link(settings, f"/dashboard/comments/{comment_id}")
    return links


def moderator_off_link(moderator_id: int, site_id: int | None, settings: MailSettings) -> str:
    """A moderator's one-click unsubscribe: from one site's emails, or (``None``) all."""
    signed = signer(SALT_MODERATOR_OFF).dumps([moderator_id, site_id or 0])
    return link(settings, f"/notify/moderator-off/{signed}")


def chat_text(context: dict[str, Any], settings: MailSettings | None) -> str:
    """The Slack-compatible text of a held comment: who, where, why, and a link."""
    comment: Comment = context["comment"]
    thread: Thread = context["thread"]
    lines = [
        f"*Comment awaiting moderation* on {context['site'].name}: {thread.title or thread.key}",
        f"From {comment.author}" + (f" ({comment.url})" if comment.url else ""),
        f"Held by {comment.held_by_rule}: {comment.held_reason}",
        "> " + comment.text[:1500].replace("\n", "\n> "),
    ]
    if settings is not None and settings.public_url:
        lines.append(f"Review: {link(settings, f'/dashboard/comments/{comment.id}')}")
    return "\n".join(lines)


def thread_link(comment: Comment, site: Site, thread: Thread, settings: MailSettings | None) -> str:
    """Where the comment will be seen: the host page when known, else the widget page."""
    anchor = f"#comment-{comment.id}"
    if thread.url:
        return thread.url + anchor
    if settings is None:
        return ""
    return link(settings, f"/w/{site.slug}?thread={thread.key}{anchor}")


# --- commenters -------------------------------------------------------------------------


def subscribe(comment: Comment, language: str, settings: MailSettings) -> None:
    """The author asked to hear about this thread: remember it, and send the one
    confirmation email unless the address is confirmed (or was asked recently)."""
    now = utcnow()
    address = db.session.execute(
        select(NotifyAddress).where(
            NotifyAddress.site_id == comment.site_id, NotifyAddress.email == comment.email
        )
    ).scalar_one_or_none()
    if address is None:
        address = NotifyAddress(
            site_id=comment.site_id, email=comment.email, language=language, created_at=now
        )
        db.session.add(address)
        db.session.flush()
    address.language = language
    address.unsubscribed_at = None  # ticking the box again is asking again
    subscription = db.session.execute(
        select(ThreadSubscription).where(
            ThreadSubscription.address_id == address.id,
            ThreadSubscription.thread_id == comment.thread_id,
        )
    ).scalar_one_or_none()
    if subscription is None:
        subscription = ThreadSubscription(
            address_id=address.id, thread_id=comment.thread_id, created_at=now
        )
        db.session.add(subscription)
        db.session.flush()
    subscription.unsubscribed_at = None
    if address.confirmed_at is not None:
        return
    if address.confirmation_sent_at and now - address.confirmation_sent_at < CONFIRMATION_INTERVAL:
        return
    site, thread = site_and_thread(comment)
    confirm = link(settings, "/notify/confirm/" + signer(SALT_CONFIRM).dumps(subscription.id))
    with force_locale(address.language):
        sent = _commenter_email(
            site,
            subscription,
            gettext("Please confirm notifications from %(site)s", site=site.name),
            "mail/confirm",
            {"site": site, "thread": thread, "confirm": confirm},
            settings,
            comment.id,
        )
    if sent:
        address.confirmation_sent_at = now


def subscriber(site_id: int, thread_id: int, email: str) -> ThreadSubscription | None:
    """The confirmed, still wanted subscription of ``email`` to the thread, if any."""
    if not email:
        return None
    return db.session.execute(
        select(ThreadSubscription)
        .join(NotifyAddress, NotifyAddress.id == ThreadSubscription.address_id)
        .where(
            NotifyAddress.site_id == site_id,
            NotifyAddress.email == email,
            NotifyAddress.confirmed_at.is_not(None),
            NotifyAddress.unsubscribed_at.is_(None),
            ThreadSubscription.thread_id == thread_id,
            ThreadSubscription.unsubscribed_at.is_(None),
        )
    ).scalar_one_or_none()


def tell_author_approved(comment: Comment, settings: MailSettings) -> None:
    """ "Your comment was approved", to a confirmed subscriber of the thread."""
    subscription = subscriber(comment.site_id, comment.thread_id, comment.email)
    if subscription is None:
        return
    site, thread = comment.site, comment.thread
    with force_locale(subscription.address.language):
        _commenter_email(
            site,
            subscription,
            gettext("Your comment on %(site)s was approved", site=site.name),
            "mail/approved",
            {
                "site": site,
                "thread": thread,
                "comment": comment,
                "comment_link": thread_link(comment, site, thread, settings),
            },
            settings,
            comment.id,
        )


def tell_parent_author(reply: Comment, settings: MailSettings) -> None:
    """An approved reply, to the author of the comment it answers (display name only)."""
    if reply.parent_id is None:
        return
    parent = db.session.get(Comment, reply.parent_id)
    if parent is None or not parent.email or parent.email == reply.email:
        return
    subscription = subscriber(parent.site_id, parent.thread_id, parent.email)
    if subscription is None:
        return
    site, thread = site_and_thread(parent)
    with force_locale(subscription.address.language):
        _commenter_email(
            site,
            subscription,
            gettext(
                "%(author)s replied to your comment on %(site)s",
                author=reply.author,
                site=site.name,
            ),
            "mail/reply",
            {
                "site": site,
                "thread": thread,
                "reply": reply,
                "comment_link": thread_link(reply, site, thread, settings),
            },
            settings,
            reply.id,
        )


def _commenter_email(
    site: Site,
    subscription: ThreadSubscription,
    subject: str,
    template: str,
    context: dict[str, Any],
    settings: MailSettings,
    comment_id: int,
) -> bool:
    """Queue an email to a subscriber, with its one-click unsubscribe (RFC 8058)."""
    unsubscribe = link(
        settings, "/notify/unsubscribe/" + signer(SALT_UNSUBSCRIBE).dumps(subscription.id)
    )
    return queue_email(
        site.id,
        subscription.address.email,
        subject,
        template,
        {**context, "unsubscribe": unsubscribe},
        unsubscribe=unsubscribe,
        comment_id=comment_id,
    )


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
    payload = {
        "to": to,
        "subject": subject,
        "text": render_template(f"{template}.txt", **context),
        "html": render_template(f"{template}.html", **context),
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    }
    _insert("email", "mail." + template.rsplit("/", 1)[-1], payload, site_id, recipient=to)
    return True


def queue_chat(hook: ChatHook, text: str) -> None:
    """Queue one Slack-compatible message (``{"text": ...}``) for a chat hook."""
    _insert("chat", "chat.held", {"text": text}, hook.site_id, chat_hook_id=hook.id)


def _insert(
    channel: str,
    event_type: str,
    payload: dict[str, Any],
    site_id: int,
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


def _over_limit(site_id: int, to: str) -> str:
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
    if db.session.execute(recent.where(OutboxDelivery.site_id == site_id)).scalar_one() >= per_site:
        return f"hourly limit of {per_site} emails per site reached"
    return ""
