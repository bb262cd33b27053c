"""Moderator accounts: creation, passwords, activation, and the sites each may see."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from functools import cache

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.clock import utcnow
from moderation.domain.comments import clean_author
from moderation.domain.errors import N_, Conflict, FieldError, InvalidInput, NotFound
from moderation.domain.passwords import check_password_strength, clean_username
from moderation.extensions import db, get_by_id
from moderation.models import Moderator, ModeratorRole, ModeratorSite, Site
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
    username: str,
    password: str,
    role: str = ModeratorRole.MODERATOR.value,
    sites: Sequence[str] | None = None,
) -> Moderator:
    """Add a moderator with a strong password, hashed with ``PASSWORD_HASH_METHOD``.

    ``sites`` (slugs) limits a moderator to those sites; ``None`` or empty: every site.
    """
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
    site_ids = _site_ids(sites, chosen_role)
    moderator = Moderator(
        username=name,
        password_hash=hash_password(password),
        role=chosen_role,
        all_sites=site_ids is None,
    )
    db.session.add(moderator)
    db.session.flush()
    _store_sites(moderator, site_ids)
    db.session.commit()
    return moderator


def get_by_username(username: str) -> Moderator:
    """The moderator named ``username``, or :class:`NotFound`."""
    moderator = db.session.execute(
        select(Moderator).where(Moderator.username == username.strip())
    ).scalar_one_or_none()
    if moderator is None:
        raise NotFound(N_("Unknown moderator %(name)r."), name=username.strip())
    return moderator


class SiteChoiceError(FieldError):
    """The sites chosen for an account cannot be given to it (shown beside the sites)."""


def _site_ids(slugs: Sequence[str] | None, role: ModeratorRole) -> set[int] | None:
    """The ids of the named sites (``None``: every site); unknown slugs are refused."""
    wanted = {slug.strip() for slug in slugs or () if slug.strip()}
    if not wanted:
        return None
    if role is ModeratorRole.ADMIN:
        raise SiteChoiceError(N_("Admins see every site: choose sites for moderators only."))
    found = dict(db.session.execute(select(Site.slug, Site.id).where(Site.slug.in_(wanted))).all())
    missing = sorted(wanted - set(found))
    if missing:
        raise SiteChoiceError(N_("Unknown site %(slug)r."), slug=missing[0])
    return set(found.values())


def _store_sites(moderator: Moderator, site_ids: set[int] | None) -> None:
    """Replace the account's sites (no commit)."""
    moderator.all_sites = site_ids is None
    db.session.execute(delete(ModeratorSite).where(ModeratorSite.moderator_id == moderator.id))
    for site_id in sorted(site_ids or ()):
        db.session.add(ModeratorSite(moderator_id=moderator.id, site_id=site_id))


def set_sites(moderator_id: int, slugs: Sequence[str] | None, acting: Actor | None) -> Moderator:
    """Limit an account to the named sites (``None`` or empty: every site); its open
    sessions see the change on their next request."""
    moderator = get_moderator(moderator_id)
    site_ids = _site_ids(slugs, moderator.role)
    _store_sites(moderator, site_ids)
    names = "every site" if site_ids is None else ", ".join(sorted(set(slugs or ())))
    if acting is not None:
        audit(acting, "moderator.sites", reason=f"account {moderator.username!r}: {names}")
    db.session.commit()
    return moderator


class WrongCurrentPassword(FieldError):
    """The current password given to change it is not the account's."""


def change_own_password(moderator: Moderator, current: str, new: str) -> Moderator:
    """A moderator's own new password: the current one first (a borrowed, unlocked
    browser is not enough); other sessions of the account end."""
    if not check_password_hash(moderator.password_hash, current):
        raise WrongCurrentPassword(N_("That is not your current password."))
    return set_password(moderator.id, new, actor_of(moderator))


def set_display_name(moderator_id: int, name: str, acting: Actor | None) -> Moderator:
    """The name the account's published replies carry (empty: the username)."""
    moderator = get_moderator(moderator_id)
    moderator.display_name = clean_author(name) if name.strip() else ""
    if acting is not None:
        audit(acting, "moderator.display_name", reason=f"account {moderator.username!r}")
    db.session.commit()
    return moderator


def visible_site_ids(moderator: Moderator) -> frozenset[int] | None:
    """The ids of the sites the account may see, or ``None`` for every site."""
    if moderator.is_admin or moderator.all_sites:
        return None
    return frozenset(
        db.session.execute(
            select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
        ).scalars()
    )


def site_slugs_of(moderators: Sequence[Moderator]) -> dict[int, list[str]]:
    """Each limited account's site slugs (for the admin's list)."""
    ids = [moderator.id for moderator in moderators if not moderator.all_sites]
    slugs: dict[int, list[str]] = {moderator_id: [] for moderator_id in ids}
    if ids:
        rows = db.session.execute(
            select(ModeratorSite.moderator_id, Site.slug)
            .join(Site, Site.id == ModeratorSite.site_id)
            .where(ModeratorSite.moderator_id.in_(ids))
            .order_by(Site.slug)
        ).all()
        for moderator_id, slug in rows:
            slugs[moderator_id].append(slug)
    return slugs


def set_password(moderator_id: int, password: str, acting: Actor | None) -> Moderator:
    """A new password chosen by a person (strength-checked); ends the account's sessions."""
    moderator = get_moderator(moderator_id)
    check_password_strength(password, moderator.username)
    moderator.password_hash = hash_password(password)
    dashboard_sessions.end_all(moderator.id)
    if acting is not None:
        audit(acting, "moderator.set_password", reason=f"account {moderator.username!r}")
    db.session.commit()
    return moderator


def get_moderator(moderator_id: int) -> Moderator:
    """The moderator with this id, or :class:`NotFound`."""
    moderator = get_by_id(Moderator, moderator_id)
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
