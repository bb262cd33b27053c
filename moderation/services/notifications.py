"""Notifications, queued in the transaction of the change that causes them: held comments
to moderators (email with single-use decision links, and chat); commenters' notices are in
:mod:`moderation.services.subscriptions`, the outbox side in
:mod:`moderation.services.mail_queue`. With no mail server configured no email is queued at
all (chat does not need one).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import ChatHook, Comment, EmailLink, Moderator, ModeratorSiteNotify, Thread
from moderation.services.mail import MailSettings
from moderation.services.mail_queue import (
    DECISION_ACTIONS,
    SALT_MODERATOR_OFF,
    hash_token,
    link,
    mail_settings,
    queue_chat,
    queue_email,
    signer,
    site_and_thread,
    thread_link,
)
from moderation.services.subscriptions import subscribe, tell_author_approved, tell_parent_author

# --- hooks the services call, in their transaction ------------------------------------


def after_submit(comment: Comment, notify: bool, language: str, chat_hooks: bool = True) -> None:
    """A comment was stored: subscribe its author if asked, tell moderators if it is held,
    and tell the parent's author if it was published at once as a reply (``chat_hooks``:
    whether the site may have chat hooks; ``False`` when the caller knows it has none)."""
    settings = mail_settings()
    mail_ready = not settings.problem()
    # a comment judged spam subscribes nobody: no confirmation emails at a spammer's request
    if notify and mail_ready and comment.email and comment.status is not CommentStatus.SPAM:
        subscribe(comment, language, settings)
    if comment.status is CommentStatus.PENDING:
        held(comment, settings if mail_ready else None, chat_hooks)
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


def held(comment: Comment, settings: MailSettings | None, chat_hooks: bool = True) -> None:
    """Email each moderator who wants it, and post to the site's chat hooks (this runs for
    every held submission: with nobody to tell, it costs one or two small queries, or none
    when mail is off and the caller knows there are no ``chat_hooks``)."""
    recipients = moderators_for(comment.site_id) if settings is not None else []
    hooks = (
        list(
            db.session.execute(
                select(ChatHook).where(ChatHook.site_id == comment.site_id)
            ).scalars()
        )
        if chat_hooks
        else []
    )
    if not recipients and not hooks:
        return
    site, thread = site_and_thread(comment)
    context = {
        "comment": comment,
        "site": site,
        "thread": thread,
        "thread_link": thread_link(comment, site, thread, settings),
    }
    for moderator in recipients:
        assert settings is not None
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
