"""The links of the public data-rights page: one per request, emailed to the address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime


class PersonLink(Base):
    """A link that lets the holder of ``email`` download or erase their data, once.

    Only a hash of the link's secret is stored; the row is deleted when the person is
    erased and once it has expired, so the address stays here no longer than the link.
    """

    __tablename__ = "person_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    used_action: Mapped[str] = mapped_column(String(20), default="")
