"""Self-service data rights: a person asks on the public page, the service emails a
signed, expiring, single-use link to that address, and the link downloads their data
(the same as ``moderation people export``) or, after a confirmation, erases it (the same
as ``moderation people erase``).

The page never says whether the address has comments: every well-formed address gets
the same answer and the same email (a person with no comments learns so from the link,
which only the owner of the mailbox can open). The link carries no address: it is
``<row id>.<secret>`` signed with a timestamp; the row keeps a hash of the secret and the
address until the link expires, is used, or the person is erased.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, update

from moderation.clock import utcnow
from moderation.domain.comments import clean_email
from moderation.extensions import db
from moderation.models import PersonLink
from moderation.services.events import Actor
from moderation.services.mail_queue import hash_token, link, mail_settings, queue_personal_email
from moderation.services.people import Erasure, ErasureMode, erase_person, export_person

#: What the link's signature is for (it opens nothing else).
SALT_PERSON = "person-data"
#: Why a link cannot be used (the page says it kindly).
UNKNOWN, USED, EXPIRED = "unknown", "used", "expired"
DOWNLOAD, ERASE = "download", "erase"
#: Who the audit log says erased someone from the public page.
SELF_SERVICE = Actor("visitor", "", "self-service page")


class MailUnavailable(Exception):
    """The service cannot send email, so no link can be sent (to anyone)."""


@dataclass(frozen=True)
class OpenedLink:
    """A link as opened: the row, or why it cannot be used (``""``: it can)."""

    link: PersonLink | None
    refusal: str = ""

    @property
    def email(self) -> str:
        """The address the link was sent to (never shown on a public page)."""
        return self.link.email if self.link is not None else ""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT_PERSON)


def _lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config["PERSON_LINK_MINUTES"]))


def request_link(email: str, language: str) -> None:
    """Email a data link to ``email`` (a valid address: :func:`clean_email` first).

    Whether the address has comments changes nothing here, so the answer cannot tell.
    Raises :class:`MailUnavailable` when no email can be sent at all.
    """
    settings = mail_settings()
    if settings.problem():
        raise MailUnavailable(settings.problem())
    now = utcnow()
    db.session.execute(delete(PersonLink).where(PersonLink.expires_at <= now))
    secret = secrets.token_urlsafe(24)
    row = PersonLink(
        secret_hash=hash_token(secret),
        email=clean_email(email),
        created_at=now,
        expires_at=now + _lifetime(),
    )
    db.session.add(row)
    db.session.flush()
    token = _serializer().dumps([row.id, secret])
    minutes = int(current_app.config["PERSON_LINK_MINUTES"])
    with force_locale(language):
        queued = queue_personal_email(
            row.email,
            gettext("Your data on %(service)s", service=_service_name(settings.public_url)),
            "mail/person_link",
            {
                "link": link(settings, f"/privacy/link/{token}?lang={language}"),
                "minutes": minutes,
                "service": _service_name(settings.public_url),
            },
        )
    if not queued:  # the hourly limit per recipient: the link would never arrive
        db.session.delete(row)
    db.session.commit()


def open_link(token: str) -> OpenedLink:
    """Look at a link (changes nothing)."""
    try:
        row_id, secret = _serializer().loads(token, max_age=int(_lifetime().total_seconds()))
    except SignatureExpired:
        return OpenedLink(None, EXPIRED)
    except (BadSignature, ValueError, TypeError):
        return OpenedLink(None, UNKNOWN)
    if not isinstance(row_id, int) or not isinstance(secret, str):
        return OpenedLink(None, UNKNOWN)
    row = db.session.get(PersonLink, row_id)
    if row is None or not hmac.compare_digest(row.secret_hash, hash_token(secret)):
        # spent links of erased people are deleted with the person: "used" would be a guess
        return OpenedLink(None, UNKNOWN)
    if row.used_at is not None:
        return OpenedLink(row, USED)
    if row.expires_at <= utcnow():
        return OpenedLink(row, EXPIRED)
    return OpenedLink(row)


def comment_count(opened: OpenedLink) -> int:
    """How many comments the link's address wrote (shown to the link's holder only)."""
    return len(export_person(opened.email)["comments"]) if opened.link is not None else 0


def _spend(token: str, action: str) -> OpenedLink:
    """Open the link and spend it for ``action`` in the current transaction."""
    opened = open_link(token)
    if opened.refusal or opened.link is None:
        return opened
    spent = db.session.execute(
        update(PersonLink)
        .where(PersonLink.id == opened.link.id, PersonLink.used_at.is_(None))
        .values(used_at=utcnow(), used_action=action)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # a second click won the race
        db.session.rollback()
        return OpenedLink(opened.link, USED)
    return opened


def download(token: str) -> tuple[OpenedLink, dict[str, Any] | None]:
    """The person's data (as ``people export`` gives it), once; the link is then spent."""
    opened = _spend(token, DOWNLOAD)
    if opened.refusal:
        return opened, None
    data = export_person(opened.email)
    db.session.commit()
    return opened, data


def erase(token: str) -> tuple[OpenedLink, Erasure | None]:
    """Erase the person (as ``people erase`` does, in the configured mode), once."""
    opened = _spend(token, ERASE)
    if opened.refusal:
        return opened, None
    mode = ErasureMode(str(current_app.config["PERSON_ERASURE_MODE"]))
    erasure = erase_person(opened.email, mode, SELF_SERVICE)  # commits; drops their links
    return opened, erasure


def _service_name(public_url: str) -> str:
    """The service as people know it: the host of its public address."""
    return public_url.split("://", 1)[-1].split("/", 1)[0]
