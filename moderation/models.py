"""Persistence: typed SQLAlchemy 2.0 models. No rendering, no commits, no requests here."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.domain.sites import SitePolicy
from moderation.domain.status import CommentStatus
from moderation.extensions import Base


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, hand back aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def enum_column(enum: type[StrEnum]) -> SqlEnum:
    """Enums stored as their string values in a VARCHAR (no native type to migrate)."""
    return SqlEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class ModeratorRole(StrEnum):
    """Admins manage sites, moderators and integrations; moderators work the queue."""

    ADMIN = "admin"
    MODERATOR = "moderator"


class DeliveryState(StrEnum):
    """Where an outbound webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class Site(Base):
    """A website that embeds the widget, with its own policy, limits and word lists."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy: Mapped[SitePolicy] = mapped_column(
        enum_column(SitePolicy), default=SitePolicy.PREMODERATE
    )
    max_links: Mapped[int] = mapped_column(Integer, default=2)
    flood_seconds: Mapped[int] = mapped_column(Integer, default=15)
    max_depth: Mapped[int] = mapped_column(Integer, default=5)
    page_size: Mapped[int] = mapped_column(Integer, default=50)
    submit_limit: Mapped[str | None] = mapped_column(String(100), default=None)
    moderation_words: Mapped[str] = mapped_column(Text, default="")
    blocked_words: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    threads: Mapped[list[Thread]] = relationship(back_populates="site")


class Thread(Base):
    """One page of a site that takes comments, named by the site's own key."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key", name="uq_threads_site_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped whenever the public view of the thread changes: the read cache keys on it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="threads")


class Comment(Base):
    """A comment as submitted, with the decision that placed it and who moderated it."""

    __tablename__ = "comments"
    __table_args__ = (
        # the public read: approved comments of a thread, oldest first
        Index("ix_comments_thread_status_created", "thread_id", "status", "created_at", "id"),
        # the moderation queue: by site and status, newest or oldest first
        Index("ix_comments_site_status_created", "site_id", "status", "created_at", "id"),
        Index("ix_comments_status_created", "status", "created_at", "id"),
        # trusted authors (site, email, status) and duplicates (thread, email)
        Index("ix_comments_site_email", "site_id", "email", "status"),
        Index("ix_comments_thread_email", "thread_id", "email"),
        Index("ix_comments_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None
    )
    author: Mapped[str] = mapped_column(String(245))
    email: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    #: The sanitised HTML of ``text``, rendered once when the text is written.
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CommentStatus] = mapped_column(
        enum_column(CommentStatus), default=CommentStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_truncated: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    held_by_rule: Mapped[str] = mapped_column(String(40), default="")
    held_reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="form")
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"), default=None
    )

    thread: Mapped[Thread] = relationship()
    site: Mapped[Site] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side="Comment.id")


class StatusCount(Base):
    """Comments per site and status, kept with every change: the queue's badges stay
    instant at any number of comments."""

    __tablename__ = "status_counts"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[CommentStatus] = mapped_column(enum_column(CommentStatus), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Moderator(Base):
    """A person who signs in to the dashboard."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[ModeratorRole] = mapped_column(
        enum_column(ModeratorRole), default=ModeratorRole.MODERATOR
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Changes when the password is reset or the account is deactivated: old sessions end.
    session_token: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def is_authenticated(self) -> bool:
        """Flask-Login: a loaded moderator is signed in."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Flask-Login: never anonymous."""
        return False

    def get_id(self) -> str:
        """Flask-Login: the session names the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        """Admins may manage sites, moderators and integrations."""
        return self.role is ModeratorRole.ADMIN


class AuditEvent(Base):
    """Who did what to which comment, when, from which status to which, and why."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_created", "created_at", "id"),
        Index("ix_audit_events_comment", "comment_id", "created_at"),
        Index("ix_audit_events_actor", "actor_type", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))  # moderator, integration, rule, system
    actor_id: Mapped[str] = mapped_column(String(64), default="")
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None
    )
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(1000), default="")


class Integration(Base):
    """An integrator's credentials, permissions and webhook subscription for one site."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: Sealed with a key derived from SECRET_KEY (``services/secret_box.py``), never clear.
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_url: Mapped[str] = mapped_column(String(2000), default="")
    allow_email: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set while an admin has disabled it: inbound refused, outbound deliveries wait.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class WebhookReceipt(Base):
    """An inbound webhook already answered: a replay gets the same answer back."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        UniqueConstraint(
            "integration_id", "webhook_id", name="uq_webhook_receipts_integration_webhook"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxDelivery(Base):
    """One event to send to one integration, written with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    integration: Mapped[Integration] = relationship()


class DeliveryAttempt(Base):
    """One try at sending an outbox delivery, kept for the delivery log."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(String(1000), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class UsedFormToken(Base):
    """Form tokens already spent: each token posts one comment at most."""

    __tablename__ = "used_form_tokens"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
