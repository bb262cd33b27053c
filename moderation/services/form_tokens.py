"""Signed form tokens: the widget's cookieless protection.

A token is bound to one site and thread, must be at least a moment old (no person posts
that fast) and at most a few hours, and is spent by the comment it posts: each token posts
once. It also tells the spam rules how long the form was open.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from sqlalchemy import delete, insert

from moderation.domain.errors import N_, DomainError
from moderation.extensions import db
from moderation.models import UsedFormToken

SALT = "moderation.form-token"


class FormTokenRefused(DomainError):
    """The token is missing, forged, for another thread, too fresh, expired or spent."""

    def __init__(self, message: str, *, keep_token: bool = False, **params: object) -> None:
        super().__init__(message, **params)
        #: A too-fresh token stays valid; the others are replaced on the next form.
        self.keep_token = keep_token


@dataclass(frozen=True)
class FormToken:
    """A checked token: its nonce and when the form was shown."""

    nonce: str
    issued_at: datetime

    def age_seconds(self, now: datetime) -> float:
        """How long the form was open."""
        return (now - self.issued_at).total_seconds()


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    """itsdangerous, made once per secret (every page view issues a token). The token
    carries its own issue time, so the age rules use the caller's clock."""
    return URLSafeSerializer(secret, salt=SALT)


@lru_cache(maxsize=8)
def _token_mac(secret: str) -> hmac.HMAC:
    """The HMAC that signs tokens, keyed as :func:`_serializer`'s signer keys it: the key is
    derived once per secret, not once per token."""
    signer = _serializer(secret).make_signer()
    return hmac.new(signer.derive_key(), digestmod=signer.digest_method)


def issue(secret: str, site: str, thread: str, now: datetime) -> str:
    """A new token for the form of ``site``/``thread``.

    Exactly what ``_serializer(secret).dumps(payload)`` writes (base64 of the compact JSON,
    a dot, the base64 of its HMAC), minus its attempt at compressing ~80 bytes, which
    never helps: every page view issues one, so the signature is made directly."""
    payload = {
        "s": site,
        "t": thread,
        "n": secrets.token_urlsafe(12),
        "i": round(now.timestamp(), 3),
    }
    value = base64_encode(json.dumps(payload, separators=(",", ":")))
    mac = _token_mac(secret).copy()
    mac.update(value)
    return f"{value.decode()}.{base64_encode(mac.digest()).decode()}"


def check(
    secret: str, token: str, site: str, thread: str, now: datetime, min_age: float, max_age: float
) -> FormToken:
    """Verify the signature, the binding and the age; raise :class:`FormTokenRefused`."""
    if not token:
        raise FormTokenRefused(N_("The form has expired. Please post your comment again."))
    try:
        data = _loads(secret, token)
        issued_at = datetime.fromtimestamp(float(data["i"]), UTC)
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError, OSError):
        raise FormTokenRefused(N_("The form is invalid. Please post your comment again.")) from None
    age = (now - issued_at).total_seconds()
    if age > max_age:
        raise FormTokenRefused(N_("The form has expired. Please post your comment again."))
    if data.get("s") != site or data.get("t") != thread:
        raise FormTokenRefused(
            N_("The form belongs to another page. Please post your comment again.")
        )
    if age < min_age:
        raise FormTokenRefused(
            N_("That was quick! Please wait a moment and post your comment again."), keep_token=True
        )
    # a spent token is refused by the unique key when the comment is stored (spend())
    return FormToken(str(data.get("n", "")), issued_at)


def _loads(secret: str, token: str) -> Any:
    """Exactly ``_serializer(secret).loads(token)``, with the signing key derived once per
    secret (:func:`_token_mac`) rather than once per token: every post checks one."""
    signed = token.encode("utf-8")
    if b"." not in signed:
        raise BadSignature("No '.' found in the token")
    value, signature = signed.rsplit(b".", 1)
    try:
        decoded = base64_decode(signature)
    except Exception:
        raise BadSignature("The signature is not base64") from None
    mac = _token_mac(secret).copy()
    mac.update(value)
    if not hmac.compare_digest(decoded, mac.digest()):
        raise BadSignature("The signature does not match")
    return _serializer(secret).load_payload(value)


def check_submitted(token: str, site: str, thread: str, now: datetime) -> FormToken:
    """:func:`check` with the service's secret and age limits (the form and the JSON door)."""
    config = current_app.config
    return check(
        config["SECRET_KEY"],
        token,
        site,
        thread,
        now,
        float(config["FORM_TOKEN_MIN_AGE"]),
        float(config["FORM_TOKEN_MAX_AGE"]),
    )


def spend(token: FormToken, max_age: float) -> None:
    """Mark the token used, in the caller's transaction: the primary key lets it post once,
    also when two copies of a form are sent at the same moment (IntegrityError)."""
    db.session.connection().execute(_SPEND, spent_values(token, max_age))


def spent_values(token: FormToken, max_age: float) -> dict[str, object]:
    """The row that marks ``token`` spent (kept until it would have expired anyway)."""
    return {"nonce": token.nonce, "expires_at": token.issued_at + timedelta(seconds=max_age)}


#: Built once: every submission runs it.
_SPEND = insert(UsedFormToken)


def purge_expired(now: datetime) -> int:
    """Forget spent tokens that have expired anyway; returns how many."""
    result = db.session.execute(delete(UsedFormToken).where(UsedFormToken.expires_at < now))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
