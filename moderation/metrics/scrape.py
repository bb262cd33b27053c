"""What is read from the database when Prometheus scrapes: the moderation queue per site
and the outbox. Gauges computed at scrape time are the same whichever process answers,
so they need no multiprocess bookkeeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.metrics import count_storage_error, instruments
from moderation.models import Comment, DeliveryState, OutboxDelivery, Site
from moderation.services.readiness import oldest_due_delivery


class ThisProcess(Collector):
    """The instruments of this process, with the client's process and runtime metrics
    (one process serving, no multiprocess directory)."""

    def collect(self) -> Iterator[Metric]:
        assert instruments.REQUESTS  # the instruments are registered before the first scrape
        yield from REGISTRY.collect()


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class DatabaseCollector(Collector):
    """Queue depth and oldest pending comment per site; outbox backlog and delivery lag."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        pending = GaugeMetricFamily(
            "moderation_queue_pending",
            "Comments waiting for a moderator, by site.",
            labels=["site"],
        )
        oldest = GaugeMetricFamily(
            "moderation_queue_oldest_pending_age_seconds",
            "Age of the oldest comment waiting for a moderator, by site (0: none waits).",
            labels=["site"],
        )
        outbox = GaugeMetricFamily(
            "moderation_outbox_deliveries",
            "Outbox deliveries not delivered, by channel and state (pending, dead).",
            labels=["channel", "state"],
        )
        lag = GaugeMetricFamily(
            "moderation_outbox_oldest_due_age_seconds",
            "How long the longest-waiting due delivery has waited (delivery lag; 0: none).",
        )
        try:
            queue = db.session.execute(
                select(Site.slug, func.count(Comment.id), func.min(Comment.created_at))
                .join(
                    Comment,
                    (Comment.site_id == Site.id) & (Comment.status == CommentStatus.PENDING),
                    isouter=True,
                )
                .group_by(Site.slug)
            ).all()
            backlog = db.session.execute(
                select(OutboxDelivery.channel, OutboxDelivery.state, func.count())
                .where(OutboxDelivery.state.in_([DeliveryState.PENDING, DeliveryState.DEAD]))
                .group_by(OutboxDelivery.channel, OutboxDelivery.state)
            ).all()
            due = oldest_due_delivery(now)
        except SQLAlchemyError as error:
            db.session.rollback()
            count_storage_error("database", error.__class__.__name__)
            return
        for slug, count, first in queue:
            pending.add_metric([slug], count)
            oldest.add_metric([slug], _age(now, first))
        for channel in ("webhook", "email", "chat"):
            for state in (DeliveryState.PENDING, DeliveryState.DEAD):
                found = next((n for c, s, n in backlog if c == channel and s == state), 0)
                outbox.add_metric([channel, state.value], found)
        lag.add_metric([], _age(now, due))
        yield from (pending, oldest, outbox, lag)
