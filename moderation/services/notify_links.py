"""What the links in notification emails do. Opening a link (GET) only looks; every
change is a POST from the page it opens, so mail scanners that fetch links decide nothing.

Decision links are bound to one comment and one moderator, single-use and expiring, and
go through the one status machine with the moderator as actor, via email
(``Actor("email_link", id, username)``: integrators' events can name it so).
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature
from sqlalchemy import select, update

from moderation.clock import utcnow
from moderation.domain.errors import DomainError
from moderation.domain.status import CommentStatus, ModerationAction
from moderation.extensions import db
from moderation.models import (
    AuditEvent,
    Comment,
    EmailLink,
    Moderator,
    Site,
    ThreadSubscription,
)
from moderation.services import decisions
from moderation.services.events import Actor, audit
from moderation.services.mail_queue import (
    DECISION_ACTIONS,
    SALT_CONFIRM,
    SALT_MODERATOR_OFF,
    SALT_UNSUBSCRIBE,
    hash_token,
    signer,
)
from moderation.services.notify_settings import set_notify

#: Why a decision link cannot decide (the page says it kindly).
UNKNOWN, USED, EXPIRED, DECIDED, INACTIVE = "unknown", "used", "expired", "decided", "inactive"


@dataclass(frozen=True)
class DecisionLink:
    """An opened decision link: the comment, and what stops the decision (``""``: none)."""

    link: EmailLink | None
    action: str
    refusal: str = ""
    decided_by: str = ""

    @property
    def comment(self) -> Comment | None:
        """The comment the link is bound to."""
        return self.link.comment if self.link is not None else None


def email_actor(link: EmailLink) -> Actor:
    """The moderator the link was sent to, acting by email."""
    return email_actor_of(link.moderator)


def open_decision(token: str, action: str) -> DecisionLink:
    """Look at a decision link (changes nothing)."""
    if action not in DECISION_ACTIONS:
        return DecisionLink(None, action, UNKNOWN)
    link = db.session.execute(
        select(EmailLink).where(EmailLink.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if link is None:
        return DecisionLink(None, action, UNKNOWN)
    if link.used_at is not None:
        return DecisionLink(link, action, USED, link.used_action)
    if link.expires_at <= utcnow():
        return DecisionLink(link, action, EXPIRED)
    if not link.moderator.is_active:
        return DecisionLink(link, action, INACTIVE)
    if link.comment.status is not CommentStatus.PENDING:
        return DecisionLink(link, action, DECIDED, _last_decider(link.comment))
    return DecisionLink(link, action)


def decide(token: str, action: str) -> DecisionLink:
    """Apply the link's decision once; the link is spent in the same transaction."""
    opened = open_decision(token, action)
    link = opened.link
    if opened.refusal or link is None:
        return opened
    spent = db.session.execute(
        update(EmailLink)
        .where(EmailLink.id == link.id, EmailLink.used_at.is_(None))
        .values(used_at=utcnow(), used_action=action)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # a second click won the race
        db.session.rollback()
        return DecisionLink(link, action, USED)
    try:
        decisions.moderate(
            link.comment_id,
            ModerationAction(action),
            email_actor(link),
            reason="decided from the notification email",
        )
    except DomainError:  # the status machine refused: the link stays unspent
        db.session.rollback()
        return DecisionLink(link, action, DECIDED, _last_decider(link.comment))
    return DecisionLink(link, action)


def _last_decider(comment: Comment) -> str:
    """Who made the comment's latest decision, as the audit log names them."""
    row = db.session.execute(
        select(AuditEvent.actor_name, AuditEvent.actor_type, AuditEvent.to_status)
        .where(AuditEvent.comment_id == comment.id, AuditEvent.to_status != "")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return ""
    return str(row.actor_name or row.actor_type)


# --- commenters -------------------------------------------------------------------------


def _subscription(signed: str, salt: str) -> ThreadSubscription | None:
    try:
        subscription_id = signer(salt).loads(signed)
    except BadSignature:
        return None
    if not isinstance(subscription_id, int):
        return None
    return db.session.get(ThreadSubscription, subscription_id)


def subscription_for_confirm(signed: str) -> ThreadSubscription | None:
    """The subscription a confirmation link names, or ``None``."""
    return _subscription(signed, SALT_CONFIRM)


def subscription_for_unsubscribe(signed: str) -> ThreadSubscription | None:
    """The subscription an unsubscribe link names, or ``None``."""
    return _subscription(signed, SALT_UNSUBSCRIBE)


def confirm(subscription: ThreadSubscription) -> None:
    """Double opt-in: the address is confirmed (idempotent)."""
    address = subscription.address
    if address.confirmed_at is None:
        address.confirmed_at = utcnow()
        audit(Actor("visitor"), "notify.confirmed", site_id=address.site_id)
    db.session.commit()


def unsubscribe(subscription: ThreadSubscription, whole_site: bool) -> None:
    """Stop emails about this thread, or about every thread of the site (idempotent)."""
    now = utcnow()
    if whole_site:
        subscription.address.unsubscribed_at = subscription.address.unsubscribed_at or now
    subscription.unsubscribed_at = subscription.unsubscribed_at or now
    db.session.commit()


# --- moderators -------------------------------------------------------------------------


def moderator_off_target(signed: str) -> tuple[int, Site | None] | None:
    """The (moderator id, site, or ``None`` for every site) a moderator's unsubscribe link
    names, or ``None`` when the link is not valid."""
    try:
        moderator_id, site_id = signer(SALT_MODERATOR_OFF).loads(signed)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(moderator_id, int) or not isinstance(site_id, int):
        return None
    if site_id == 0:
        return moderator_id, None
    site = db.session.get(Site, site_id)
    return (moderator_id, site) if site is not None else None


def moderator_off(moderator_id: int, site: Site | None) -> None:
    """A moderator's one-click unsubscribe: no more emails about this site (or any)."""
    moderator = db.session.get(Moderator, moderator_id)
    if moderator is None:
        return
    set_notify(
        moderator, "none", [site.slug] if site is not None else [], email_actor_of(moderator)
    )


def email_actor_of(moderator: Moderator) -> Actor:
    """A moderator acting through a link of an email."""
    return Actor("email_link", str(moderator.id), moderator.username)
