"""Moderator accounts: creation, passwords, activation."""

from __future__ import annotations

import secrets
from functools import cache

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.clock import utcnow
from moderation.domain.errors import N_, Conflict, InvalidInput, NotFound
from moderation.domain.passwords import check_password_strength, clean_username
from moderation.extensions import db
from moderation.models import Moderator, ModeratorRole
from moderation.services import dashboard_sessions
from moderation.services.events import Actor, audit


def hash_password(password: str) -> str:
    """The password hashed with the configured method (``PASSWORD_HASH_METHOD``, scrypt)."""
    return generate_password_hash(password, method=_hash_method())


def _hash_method() -> str:
    return str(current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt")


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the username is unknown, so both cases cost the same time."""
    return generate_password_hash("not a real password, only a timing equaliser", method=method)


def create_moderator(
    username: str, password: str, role: str = ModeratorRole.MODERATOR.value
) -> Moderator:
    """Add a moderator with a strong password, hashed with ``PASSWORD_HASH_METHOD``."""
    name = clean_username(username)
    try:
        chosen_role = ModeratorRole(role)
    except ValueError:
        raise InvalidInput(
            N_("Unknown role %(role)r: choose admin or moderator."), role=role
        ) from None
    check_password_strength(password, name)
    if db.session.execute(select(Moderator.id).where(Moderator.username == name)).first():
        raise Conflict(N_("A moderator named %(name)r already exists."), name=name)
    moderator = Moderator(
        username=name,
        password_hash=hash_password(password),
        role=chosen_role,
    )
    db.session.add(moderator)
    db.session.commit()
    return moderator


def get_moderator(moderator_id: int) -> Moderator:
    """The moderator with this id, or :class:`NotFound`."""
    moderator = db.session.get(Moderator, moderator_id)
    if moderator is None:
        raise NotFound(N_("Unknown moderator %(id)s."), id=moderator_id)
    return moderator


def authenticate(username: str, password: str) -> Moderator | None:
    """The active moderator with these credentials, else ``None``; records the sign-in."""
    moderator = db.session.execute(
        select(Moderator).where(Moderator.username == username.strip())
    ).scalar_one_or_none()
    if moderator is None:
        check_password_hash(_dummy_hash(_hash_method()), password)
        return None
    if not check_password_hash(moderator.password_hash, password) or not moderator.is_active:
        return None
    moderator.last_sign_in_at = utcnow()
    db.session.commit()
    return moderator


def list_moderators() -> list[Moderator]:
    """Every account, by username."""
    return list(db.session.execute(select(Moderator).order_by(Moderator.username)).scalars())


def set_active(moderator_id: int, active: bool, acting: Moderator) -> Moderator:
    """Deactivate (ending every session at once) or reactivate an account."""
    moderator = get_moderator(moderator_id)
    if moderator.id == acting.id and not active:
        raise Conflict(N_("You cannot deactivate your own account."))
    if not active and moderator.role is ModeratorRole.ADMIN and _active_admins() <= 1:
        raise Conflict(N_("The last active admin cannot be deactivated."))
    moderator.is_active = active
    dashboard_sessions.end_all(moderator.id)
    _audit_admin(acting, "moderator.activate" if active else "moderator.deactivate", moderator)
    db.session.commit()
    return moderator


def reset_password(moderator_id: int, acting: Moderator) -> str:
    """Give an account a new random password (shown once) and end its sessions."""
    moderator = get_moderator(moderator_id)
    password = generate_password()
    moderator.password_hash = hash_password(password)
    dashboard_sessions.end_all(moderator.id)
    _audit_admin(acting, "moderator.reset_password", moderator)
    db.session.commit()
    return password


def _active_admins() -> int:
    return len(
        db.session.execute(
            select(Moderator.id).where(
                Moderator.role == ModeratorRole.ADMIN, Moderator.is_active.is_(True)
            )
        ).all()
    )


def actor_of(moderator: Moderator) -> Actor:
    """A moderator as the actor of audit events."""
    return Actor("moderator", str(moderator.id), moderator.username)


def _audit_admin(acting: Moderator, action: str, moderator: Moderator) -> None:
    audit(actor_of(acting), action, reason=f"account {moderator.username!r}")


def generate_password() -> str:
    """A random password that passes the strength rules, for bootstrap and resets."""
    return secrets.token_urlsafe(15)
