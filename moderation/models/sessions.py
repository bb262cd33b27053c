"""Dashboard sign-ins kept on the server: the cookie names a record, and a record can end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.models.base import Base, UTCDateTime


class DashboardSession(Base):
    """One sign-in of one moderator in one browser.

    The cookie carries a random key; only its SHA-256 is stored, so a copy of the database
    signs nobody in. Ending a session deletes its row.
    """

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), index=True
    )
    #: When the password was given for this session (sign-in); the absolute lifetime counts
    #: from here.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the password was last given (sign-in or re-authentication): sensitive actions
    #: need this to be recent.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The last request (updated at most once a minute): the idle timeout counts from here.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A secret waiting for the one page that shows it (after a redirect), sealed with the
    #: service's key; "" when there is none.
    shown_once: Mapped[str] = mapped_column(String(600), default="", server_default="")
