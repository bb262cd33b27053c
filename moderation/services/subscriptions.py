"""Commenters' notifications: the thread subscription and its double opt-in, then (once
the address is confirmed) "your comment was approved" and approved replies, each with its
RFC 8058 one-click unsubscribe. A reply names the replier by display name only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask_babel import force_locale, gettext
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from moderation.clock import utcnow
from moderation.domain.languages import locale_of
from moderation.extensions import db
from moderation.models import Comment, NotifyAddress, Site, ThreadSubscription
from moderation.services.mail import MailSettings
from moderation.services.mail_queue import (
    SALT_CONFIRM,
    SALT_UNSUBSCRIBE,
    link,
    queue_email,
    signer,
    site_and_thread,
    thread_link,
)

#: One confirmation email per address and site in this long, however often the box is ticked.
CONFIRMATION_INTERVAL = timedelta(hours=24)
Row = TypeVar("Row", NotifyAddress, ThreadSubscription)


def subscribe(comment: Comment, language: str, settings: MailSettings) -> None:
    """The author asked to hear about this thread: remember it, and send the one
    confirmation email unless the address is confirmed (or was asked recently)."""
    now = utcnow()
    address = _get_or_create(
        select(NotifyAddress).where(
            NotifyAddress.site_id == comment.site_id, NotifyAddress.email == comment.email
        ),
        lambda: NotifyAddress(
            site_id=comment.site_id, email=comment.email, language=language, created_at=now
        ),
    )
    address.language = language
    address.unsubscribed_at = None  # ticking the box again is asking again
    subscription = _get_or_create(
        select(ThreadSubscription).where(
            ThreadSubscription.address_id == address.id,
            ThreadSubscription.thread_id == comment.thread_id,
        ),
        lambda: ThreadSubscription(
            address_id=address.id, thread_id=comment.thread_id, created_at=now
        ),
    )
    subscription.unsubscribed_at = None
    if address.confirmed_at is not None:
        return
    if address.confirmation_sent_at and now - address.confirmation_sent_at < CONFIRMATION_INTERVAL:
        return
    site, thread = site_and_thread(comment)
    confirm = link(settings, "/notify/confirm/" + signer(SALT_CONFIRM).dumps(subscription.id))
    with force_locale(locale_of(address.language)):
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


def _get_or_create(query: Select[Row], create: Callable[[], Row]) -> Row:
    """The row ``query`` finds, else a new one; a concurrent request that inserted the same
    row first wins (a savepoint keeps the rest of the transaction)."""
    found = db.session.execute(query).scalar_one_or_none()
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            row = create()
            db.session.add(row)
    except IntegrityError:
        return db.session.execute(query).scalar_one()
    return row


def is_confirmed(site_id: int, email: str) -> bool:
    """Whether ``email`` confirmed an address on the site (double opt-in): a verified author."""
    return (
        db.session.execute(
            select(NotifyAddress.id).where(
                NotifyAddress.site_id == site_id,
                NotifyAddress.email == email,
                NotifyAddress.confirmed_at.is_not(None),
            )
        ).first()
        is not None
    )


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
    with force_locale(locale_of(subscription.address.language)):
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
    with force_locale(locale_of(subscription.address.language)):
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
