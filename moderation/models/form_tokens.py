"""Spent form tokens: each token posts one comment at most."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.models.base import Base, UTCDateTime


class UsedFormToken(Base):
    """Form tokens already spent: each token posts one comment at most."""

    __tablename__ = "used_form_tokens"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
