"""Dashboard sessions kept on the server: started at sign-in, checked on every request,
ended at sign-out, by a password reset, a deactivation or an admin, and after an absolute
lifetime or an idle time, whatever the cookie says."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from moderation import clock
from moderation.domain.errors import N_, NotFound
from moderation.extensions import db
from moderation.models import DashboardSession, Moderator
from moderation.services import secret_box
from moderation.services.events import Actor, audit

#: ``last_seen_at`` is written at most this often (the idle timeout is this coarse).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a sign-in lasts: ``absolute`` from the sign-in whatever happens, ``idle``
    without a request (zero: no idle limit), ``fresh`` after the password was last given
    for the sensitive admin actions."""

    absolute: timedelta
    idle: timedelta
    fresh: timedelta


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(moderator: Moderator, policy: SessionPolicy) -> str:
    """Record a new sign-in of ``moderator``; the random key for the cookie. The account's
    expired records go at the same time."""
    now = clock.utcnow()
    _delete_expired(moderator.id, now, policy)
    key = secrets.token_urlsafe(32)
    db.session.add(
        DashboardSession(
            key_hash=_hash(key),
            moderator_id=moderator.id,
            created_at=now,
            authenticated_at=now,
            last_seen_at=now,
        )
    )
    db.session.commit()
    return key


def _delete_expired(moderator_id: int, now: datetime, policy: SessionPolicy) -> None:
    expired = DashboardSession.created_at <= now - policy.absolute
    if policy.idle:
        expired = expired | (DashboardSession.last_seen_at <= now - policy.idle)
    db.session.execute(
        delete(DashboardSession).where(DashboardSession.moderator_id == moderator_id, expired)
    )


def _record(key: str) -> DashboardSession | None:
    if not key:
        return None
    return db.session.execute(
        select(DashboardSession).where(DashboardSession.key_hash == _hash(key))
    ).scalar_one_or_none()


def load(key: str, policy: SessionPolicy) -> Moderator | None:
    """The active moderator whose live session this key names, else ``None`` (unknown,
    ended, past its absolute lifetime or idle too long: the record goes)."""
    record = _record(key)
    if record is None:
        return None
    now = clock.utcnow()
    moderator = db.session.get(Moderator, record.moderator_id)
    too_old = record.created_at <= now - policy.absolute
    idle = bool(policy.idle) and record.last_seen_at <= now - policy.idle
    if moderator is None or not moderator.is_active or too_old or idle:
        db.session.delete(record)
        db.session.commit()
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    moderator.session_key = key
    return moderator


def keep_to_show_once(key: str, secret_key: str, shown: dict[str, str]) -> bool:
    """Keep ``shown`` (a secret and what it belongs to) on this session, sealed, for the
    next page that takes it: the secret never travels in a URL or a cookie. ``False`` when
    the session has ended (an admin who reset their own password)."""
    record = _record(key)
    if record is None:
        return False
    record.shown_once = secret_box.seal(secret_key, json.dumps(shown), _context(record))
    db.session.commit()
    return True


def take_shown_once(key: str, secret_key: str, kind: str) -> dict[str, str] | None:
    """What :func:`keep_to_show_once` kept on this session for a page of ``kind`` (its
    ``"kind"``), once: it is gone afterwards. Another page leaves it waiting."""
    record = _record(key)
    if record is None or not record.shown_once:
        return None
    try:
        shown: dict[str, str] = json.loads(
            secret_box.unseal(secret_key, record.shown_once, _context(record))
        )
    except secret_box.SecretUnreadable:  # SECRET_KEY changed in between: nothing to show
        shown = {}
    if shown and shown.get("kind") != kind:
        return None
    record.shown_once = ""
    db.session.commit()
    return shown or None


def _context(record: DashboardSession) -> str:
    """What a kept secret is bound to: this session (it opens on no other row)."""
    return f"shown-once:{record.key_hash}"


def is_fresh(key: str, policy: SessionPolicy) -> bool:
    """Whether the password was given for this session within the fresh period."""
    record = _record(key)
    return record is not None and record.authenticated_at > clock.utcnow() - policy.fresh


def confirm_password(moderator: Moderator, password: str) -> bool:
    """Re-authentication: whether ``password`` is the signed-in moderator's; if it is, the
    session is fresh again."""
    record = _record(moderator.session_key)
    if record is None or not check_password_hash(moderator.password_hash, password):
        return False
    record.authenticated_at = clock.utcnow()
    db.session.commit()
    return True


def end(key: str) -> None:
    """Sign-out: this session ends (a copy of its cookie is refused from now on)."""
    db.session.execute(delete(DashboardSession).where(DashboardSession.key_hash == _hash(key)))
    db.session.commit()


def end_all(moderator_id: int) -> int:
    """End every session of an account, in the caller's transaction; how many there were."""
    result = db.session.execute(
        delete(DashboardSession).where(DashboardSession.moderator_id == moderator_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def sign_out_everywhere(username: str, actor: Actor) -> int:
    """An admin (or the CLI) ends every session of the account ``username``."""
    moderator = db.session.execute(
        select(Moderator).where(Moderator.username == username.strip())
    ).scalar_one_or_none()
    if moderator is None:
        raise NotFound(N_("Unknown moderator %(name)r."), name=username)
    ended = end_all(moderator.id)
    audit(actor, "moderator.sign_out", reason=f"account {moderator.username!r}: {ended} sessions")
    db.session.commit()
    return ended


def count_live(policy: SessionPolicy) -> dict[int, int]:
    """Live sessions per account id (for the moderators page)."""
    now = clock.utcnow()
    query = select(DashboardSession.moderator_id, func.count()).where(
        DashboardSession.created_at > now - policy.absolute
    )
    if policy.idle:
        query = query.where(DashboardSession.last_seen_at > now - policy.idle)
    rows = db.session.execute(query.group_by(DashboardSession.moderator_id))
    return {int(moderator_id): int(count) for moderator_id, count in rows}
