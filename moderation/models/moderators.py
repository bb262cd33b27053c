"""The people who sign in to the dashboard."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.clock import utcnow
from moderation.models.base import Base, UTCDateTime, enum_column


class ModeratorRole(StrEnum):
    """Admins manage sites, moderators and integrations; moderators work the queue."""

    ADMIN = "admin"
    MODERATOR = "moderator"


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: Sees every site (admins always do); otherwise only the sites in ``moderator_sites``.
    #: A flag rather than "no rows": deleting a moderator's last site must not widen access.
    all_sites: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The name published replies carry (empty: the username).
    display_name: Mapped[str] = mapped_column(String(245), default="")
    #: Where notifications go ("" : none), and what they get by default on every site
    #: (each held comment, a digest, or nothing; ``ModeratorSiteNotify`` overrides per site).
    email: Mapped[str] = mapped_column(String(100), default="")
    notify_mode: Mapped[str] = mapped_column(String(20), default="each")
    #: When the last digest of held comments went out (``digest`` choices).
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def is_authenticated(self) -> bool:
        """Flask-Login: a loaded moderator is signed in."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Flask-Login: never anonymous."""
        return False

    #: The key of the dashboard session this object was loaded for or signed in with
    #: (never stored on the account): what Flask-Login keeps in the cookie.
    session_key = ""

    def get_id(self) -> str:
        """Flask-Login: the cookie names a server-side session record, not the account
        (:mod:`moderation.services.dashboard_sessions`)."""
        return self.session_key

    @property
    def public_name(self) -> str:
        """The name readers see on this moderator's replies."""
        return self.display_name or self.username

    @property
    def is_admin(self) -> bool:
        """Admins may manage sites, moderators and integrations."""
        return self.role is ModeratorRole.ADMIN


class ModeratorSite(Base):
    """A site a moderator (without ``all_sites``) may see and moderate."""

    __tablename__ = "moderator_sites"

    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )
