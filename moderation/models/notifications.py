"""Notifications: who wants what per site, single-use links sent by email, commenters'
confirmed addresses and thread subscriptions, and chat incoming-webhook URLs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime
from moderation.models.comments import Comment, Site
from moderation.models.moderators import Moderator


class ModeratorSiteNotify(Base):
    """A moderator's choice for one site (each, digest, none), over their default."""

    __tablename__ = "moderator_site_notify"
    __table_args__ = (
        UniqueConstraint("moderator_id", "site_id", name="uq_moderator_site_notify_moderator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderators.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(20), default="each")

    site: Mapped[Site] = relationship()


class EmailLink(Base):
    """The decision links of one held-comment email: bound to that comment and that
    moderator, single-use, expiring. Only a hash of the token is stored."""

    __tablename__ = "email_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    moderator_id: Mapped[int] = mapped_column(ForeignKey("moderators.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    used_action: Mapped[str] = mapped_column(String(20), default="")

    comment: Mapped[Comment] = relationship()
    moderator: Mapped[Moderator] = relationship()


class NotifyAddress(Base):
    """A commenter's address on one site: confirmed (double opt-in) or not yet."""

    __tablename__ = "notify_addresses"
    __table_args__ = (UniqueConstraint("site_id", "email", name="uq_notify_addresses_site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Set by "unsubscribe from all threads of this site"; ticking the box again clears it.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    site: Mapped[Site] = relationship()


class ThreadSubscription(Base):
    """An address that asked to hear about one thread."""

    __tablename__ = "thread_subscriptions"
    __table_args__ = (
        UniqueConstraint("address_id", "thread_id", name="uq_thread_subscriptions_address_id"),
        Index("ix_thread_subscriptions_thread", "thread_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("notify_addresses.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    address: Mapped[NotifyAddress] = relationship()


class ChatHook(Base):
    """A Slack-compatible incoming-webhook URL of a site (Slack, Mattermost, Rocket.Chat,
    Discord's ``/slack`` endpoint): held comments are posted there."""

    __tablename__ = "chat_hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
