"""People's data rights (GDPR Art. 15 and 17): everything stored about an email address,
and its erasure.

A person is found by their email address, as typed or as normalised, case-insensitively,
across every site. Erasure either anonymises their comments (email, website, address and
user agent removed, name "Anonymous", text kept, as WordPress does) or deletes them; their
rate-limit traces are dropped where the service can reach them; the audit log records the
erasure without the address; and each site's integrations that subscribe receive a
``person.erased`` event carrying a keyed hash of the address, never the address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select, update

from moderation.clock import utcnow
from moderation.domain.comments import clean_email, strip_controls
from moderation.domain.errors import N_, FieldError, InvalidInput
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import (
    Comment,
    DeliveryAttempt,
    NotifyAddress,
    OutboxDelivery,
    PersonLink,
    Site,
    Thread,
    ThreadSubscription,
)
from moderation.ratelimit import gate, private_key
from moderation.services import events, spam_upkeep
from moderation.services.events import Actor
from moderation.services.removed_imports import note_removed

#: The outbound event an erasure sends.
PERSON_ERASED = "person.erased"
#: The name an anonymised comment shows.
ANONYMOUS = "Anonymous"


class ErasureMode(StrEnum):
    """Keep the words without the person, or remove the comments altogether."""

    ANONYMISE = "anonymise"
    DELETE = "delete"


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: comments changed per site, and the subject's keyed hash."""

    mode: ErasureMode
    comments: int
    sites: tuple[str, ...]
    subject: str


def subject_hash(email: str) -> str:
    """The keyed hash that names an erased person in events and the audit log.

    Stable for an address (an integrator sees the same value if the person is erased
    twice), useless without the service's secret key: the address cannot be recovered or
    guessed from it.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = b"person:" + email.strip().lower().encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def export_person(email: str) -> dict[str, Any]:
    """Everything stored about the comments written with ``email``, as JSON-ready data."""
    address = _address(email)
    rows = db.session.execute(
        select(Comment, Site.slug, Thread.key, Thread.title, Thread.url)
        .join(Site, Site.id == Comment.site_id)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(_matches(address))
        .order_by(Comment.id)
    ).all()
    return {
        "format": "moderation-person-export",
        "version": 1,
        "exported_at": utcnow().isoformat().replace("+00:00", "Z"),
        "email": address,
        "comments": [
            {
                "id": comment.id,
                "site": slug,
                "thread": key,
                "thread_title": title,
                "thread_url": url,
                "parent": comment.parent_id,
                "author": comment.author,
                "email": comment.email,
                "website": comment.url or None,
                "text": comment.text,
                "status": comment.status.value,
                "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
                "updated_at": comment.updated_at.isoformat().replace("+00:00", "Z"),
                "ip_address": comment.ip_truncated or None,
                "user_agent": comment.user_agent or None,
                "source": comment.source,
            }
            for comment, slug, key, title, url in rows
        ],
    }


def erase_person(email: str, mode: ErasureMode | str, actor: Actor) -> Erasure:
    """Erase ``email`` from every comment (anonymise or delete them), in one transaction."""
    try:
        mode = ErasureMode(mode)
    except ValueError:
        raise InvalidInput(N_("Unknown erasure mode %(mode)r."), mode=str(mode)) from None
    address = _address(email)
    subject = subject_hash(address)
    rows = db.session.execute(
        select(Comment.id, Comment.site_id, Comment.thread_id, Comment.status, Site.slug)
        .join(Site, Site.id == Comment.site_id)
        .where(_matches(address))
    ).all()
    per_site: dict[int, list[int]] = {}
    slugs: dict[int, str] = {}
    statuses: Counter[tuple[int, CommentStatus]] = Counter()
    approved_threads: Counter[int] = Counter()
    for row in rows:
        per_site.setdefault(row.site_id, []).append(row.id)
        slugs[row.site_id] = row.slug
        statuses[(row.site_id, row.status)] += 1
        if row.status is CommentStatus.APPROVED:
            approved_threads[row.thread_id] += 1
    ids = [row.id for row in rows]
    if mode is ErasureMode.DELETE:
        # what the comments taught goes with them (their rows would go by cascade, the
        # counts would not)
        spam_upkeep.forget_person(address, ids, keep_comments=False)
    if mode is ErasureMode.DELETE:
        note_removed(ids)  # so that an import run again does not bring them back
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if mode is ErasureMode.DELETE:
            db.session.execute(delete(Comment).where(Comment.id.in_(chunk)))
        else:
            db.session.execute(
                update(Comment)
                .where(Comment.id.in_(chunk))
                .values(
                    author=ANONYMOUS,
                    email="",
                    email_flagged=False,
                    url="",
                    website_key="",
                    ip_truncated="",
                    user_agent="",
                    updated_at=utcnow(),
                )
            )
    if mode is ErasureMode.ANONYMISE:
        # the classifier keeps the words, learned again without the person
        spam_upkeep.forget_person(address, ids, keep_comments=True)
    if mode is ErasureMode.DELETE:
        for (site_id, status), count in statuses.items():
            events.count_status(site_id, status, -count)
    for thread_id, count in approved_threads.items():
        delta = -count if mode is ErasureMode.DELETE else 0
        events.touch_thread(thread_id, approved_delta=delta)
    for site_id, site_ids in per_site.items():
        events.audit(
            actor,
            PERSON_ERASED,
            site_id=site_id,
            reason=f"{mode.value}: {len(site_ids)} comment(s) of person {subject[:16]}",
        )
        events.emit_event(
            PERSON_ERASED,
            site_id,
            {"site": slugs[site_id], "subject": subject, "mode": mode.value, "comments": site_ids},
        )
    if not rows:
        events.audit(
            actor, PERSON_ERASED, reason=f"{mode.value}: no comment of person {subject[:16]}"
        )
    _forget_rate_limits(address)
    _forget_notifications(address)
    db.session.commit()
    return Erasure(mode, len(rows), tuple(sorted(slugs.values())), subject)


def _address(email: str) -> str:
    """The address looked for: normalised when valid, else as typed (imported comments
    keep invalid addresses as found)."""
    raw = strip_controls(email, single_line=True)
    if not raw:
        raise InvalidInput(N_("Please enter your email address."))
    try:
        return clean_email(raw)
    except FieldError:
        return raw


def _matches(address: str) -> ColumnElement[bool]:
    """Comments written with ``address``, whatever its case."""
    return func.lower(Comment.email) == address.lower()


def _forget_rate_limits(address: str) -> None:
    """Drop the person's per-email submission counters and flood intervals on every site."""
    email_key = private_key(address)
    limits = str(current_app.config["LIMIT_SUBMIT_PER_EMAIL"])
    for slug, flood_seconds in db.session.execute(select(Site.slug, Site.flood_seconds)).all():
        gate().forget(
            [("email", limits, (email_key,))], [(slug, "email", email_key)], int(flood_seconds)
        )


def _forget_notifications(address: str) -> None:
    """Drop the person's notification addresses (their thread subscriptions go with them),
    every email addressed to them, queued or sent, with its delivery attempts, and the
    links the public data page sent them."""
    lowered = address.lower()
    db.session.execute(delete(PersonLink).where(func.lower(PersonLink.email) == lowered))
    addresses = select(NotifyAddress.id).where(func.lower(NotifyAddress.email) == lowered)
    db.session.execute(
        delete(ThreadSubscription).where(ThreadSubscription.address_id.in_(addresses))
    )
    db.session.execute(delete(NotifyAddress).where(func.lower(NotifyAddress.email) == lowered))
    emails = select(OutboxDelivery.id).where(
        OutboxDelivery.channel == "email", func.lower(OutboxDelivery.recipient) == lowered
    )
    db.session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(emails)))
    db.session.execute(
        delete(OutboxDelivery).where(
            OutboxDelivery.channel == "email", func.lower(OutboxDelivery.recipient) == lowered
        )
    )
