"""Imported comments removed here for good: the ids they had in their source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime


class RemovedImport(Base):
    """An imported comment that was removed for good (its author erased with ``delete``,
    or purged once deleted): the site, the source and the comment's id there.

    An import run again skips these as it skips the comments it finds stored: without
    them a re-run (the way an interrupted import is completed) would bring an erased
    person's comments back, address and all. Nothing personal is kept: only the source's
    own id of the comment.
    """

    __tablename__ = "removed_imports"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
