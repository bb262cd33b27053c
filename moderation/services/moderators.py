"""Moderator accounts: creation, passwords, activation."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.domain.errors import N_, Conflict, InvalidInput, NotFound
from moderation.domain.passwords import check_password_strength, clean_username
from moderation.extensions import db
from moderation.models import Moderator, ModeratorRole, utcnow

#: Checked against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = generate_password_hash("not a real password, only a timing equaliser")


def create_moderator(
    username: str, password: str, role: str = ModeratorRole.MODERATOR.value
) -> Moderator:
    """Add a moderator with a strong password, hashed with scrypt."""
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
        password_hash=generate_password_hash(password),
        role=chosen_role,
        session_token=secrets.token_hex(16),
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
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(moderator.password_hash, password) or not moderator.is_active:
        return None
    moderator.last_sign_in_at = utcnow()
    db.session.commit()
    return moderator


def generate_password() -> str:
    """A random password that passes the strength rules, for bootstrap and resets."""
    return secrets.token_urlsafe(15)
