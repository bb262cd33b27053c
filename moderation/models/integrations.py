"""Integrations: credentials, inbound receipts (idempotency) and the outbound outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime, enum_column
from moderation.models.comments import Site


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
    #: SHA-256 of the first body sent under this id (None for receipts from before it was kept).
    body_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryState(StrEnum):
    """Where an outbound webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxDelivery(Base):
    """One event to send to one integration, written with the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "next_attempt_at", "id"),
        # the hourly notification limits count recent emails per recipient and per site
        Index("ix_outbox_channel_recipient_created", "channel", "recipient", "created_at"),
        Index("ix_outbox_channel_site_created", "channel", "site_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``None`` for notifications (emails and chat messages), which share the outbox.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
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
    #: webhook, email or chat; for an email the recipient's address, for chat its hook.
    channel: Mapped[str] = mapped_column(String(20), default="webhook", server_default="webhook")
    recipient: Mapped[str] = mapped_column(String(100), default="", server_default="")
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), default=None
    )
    chat_hook_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_hooks.id", ondelete="CASCADE"), default=None
    )

    integration: Mapped[Integration | None] = relationship()


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
    #: The start of the receiver's answer, for the delivery log.
    response_excerpt: Mapped[str] = mapped_column(String(2000), default="", server_default="")
