"""What needs an admin's attention: the oldest waiting comment, deliveries that gave up,
and sites no moderator looks after."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import (
    Comment,
    DeliveryState,
    Moderator,
    ModeratorRole,
    ModeratorSite,
    OutboxDelivery,
    Site,
)


@dataclass(frozen=True)
class Attention:
    """The admin's front-page summary."""

    oldest_pending: Comment | None
    dead_deliveries: int
    unwatched_sites: list[Site]

    @property
    def count(self) -> int:
        """How many things are listed."""
        return (
            (self.oldest_pending is not None)
            + (self.dead_deliveries > 0)
            + len(self.unwatched_sites)
        )


def needs_attention() -> Attention:
    """The summary, from three small indexed queries."""
    oldest = db.session.execute(
        select(Comment)
        .where(Comment.status == CommentStatus.PENDING)
        .order_by(Comment.status, Comment.created_at, Comment.id)
        .limit(1)
    ).scalar_one_or_none()
    dead = db.session.execute(
        select(func.count(OutboxDelivery.id)).where(OutboxDelivery.state == DeliveryState.DEAD)
    ).scalar_one()
    active_moderators = select(Moderator.id).where(
        Moderator.is_active.is_(True), Moderator.role == ModeratorRole.MODERATOR
    )
    everywhere = db.session.execute(
        active_moderators.where(Moderator.all_sites.is_(True)).limit(1)
    ).first()
    unwatched: list[Site] = []
    if everywhere is None:
        watched = select(ModeratorSite.site_id).where(
            ModeratorSite.moderator_id.in_(active_moderators)
        )
        unwatched = list(
            db.session.execute(
                select(Site).where(Site.id.not_in(watched)).order_by(Site.slug)
            ).scalars()
        )
    return Attention(oldest, int(dead), unwatched)
