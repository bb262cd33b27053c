"""The spam classifier's memory, what it said about each comment, and block lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime


class SpamCount(Base):
    """In how many spam and ham comments a feature occurred, per scope (a site or "*").

    Only ever changed by atomic increments (``services.spam_store``), so any number of
    processes learn at once without losing a decision.
    """

    __tablename__ = "spam_counts"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    spam: Mapped[int] = mapped_column(Integer, default=0)
    ham: Mapped[int] = mapped_column(Integer, default=0)


class CommentSpam(Base):
    """What the classifier said about one comment, and what the comment taught it.

    ``features`` are the ones extracted when the comment arrived (newline-separated):
    un-learning subtracts exactly these, whatever happened to the text or the key since.
    ``label`` is what the counts hold for this comment now ("spam", "ham" or "").
    """

    __tablename__ = "comment_spam"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float | None] = mapped_column(Float, default=None)
    #: The features that drove the score: [[phrase, probability], ...], strongest first.
    clues: Mapped[list[list[object]]] = mapped_column(JSON, default=list)
    features: Mapped[str] = mapped_column(Text, default="")
    feature_version: Mapped[int] = mapped_column(Integer, default=1)
    label: Mapped[str] = mapped_column(String(10), default="")


class BlockEntry(Base):
    """One blocked email, email domain, website domain or IP prefix of a site."""

    __tablename__ = "block_entries"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "value", name="uq_block_entries_site_kind_value"),
        Index("ix_block_entries_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
