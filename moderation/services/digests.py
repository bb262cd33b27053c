"""Digests: moderators who chose ``digest`` on a site get one email every
``NOTIFY_DIGEST_MINUTES`` listing the comments held there since the last one."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, Moderator, ModeratorSiteNotify, Site
from moderation.services.mail_queue import mail_settings, queue_email, thread_link
from moderation.services.notifications import decision_links, moderator_off_link

#: A digest lists this many comments at most (the dashboard has the rest).
DIGEST_SIZE = 50


def digest_sites(moderator: Moderator, sites: list[Site]) -> list[Site]:
    """The sites on which ``moderator`` chose a digest."""
    overrides = {
        row.site_id: row.mode
        for row in db.session.execute(
            select(ModeratorSiteNotify).where(ModeratorSiteNotify.moderator_id == moderator.id)
        ).scalars()
    }
    return [site for site in sites if overrides.get(site.id, moderator.notify_mode) == "digest"]


def send_digests(now: datetime) -> int:
    """Queue the digests that are due (and commit); returns how many were queued."""
    settings = mail_settings()
    if settings.problem():
        return 0
    interval = timedelta(minutes=float(current_app.config["NOTIFY_DIGEST_MINUTES"]))
    sites = list(db.session.execute(select(Site).order_by(Site.slug)).scalars())
    queued = 0
    moderators = db.session.execute(
        select(Moderator).where(Moderator.is_active.is_(True), Moderator.email != "")
    ).scalars()
    for moderator in moderators:
        since = moderator.digest_sent_at or (now - interval)
        if now - since < interval:
            continue
        chosen = digest_sites(moderator, sites)
        if not chosen:
            continue
        held = list(
            db.session.execute(
                select(Comment)
                .where(
                    Comment.site_id.in_([site.id for site in chosen]),
                    Comment.status == CommentStatus.PENDING,
                    Comment.created_at > since,
                )
                .order_by(Comment.id)
                .limit(DIGEST_SIZE)
            ).scalars()
        )
        if not held:
            continue
        entries = [
            {
                "comment": comment,
                "links": decision_links(comment.id, moderator.id, settings),
                "thread_link": thread_link(comment, comment.site, comment.thread, settings),
            }
            for comment in held
        ]
        off = moderator_off_link(moderator.id, None, settings)
        with force_locale("en"):
            sent = queue_email(
                held[0].site_id,
                moderator.email,
                f"{len(held)} comment(s) awaiting moderation",
                "mail/digest",
                {"entries": entries, "moderator": moderator, "unsubscribe": off},
                unsubscribe=off,
            )
        if sent:
            moderator.digest_sent_at = now
            queued += 1
    db.session.commit()
    return queued
