"""Keys of the rate-limit storage: no email address is ever written there as it is."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def private_key(value: str) -> str:
    """A keyed hash for values (emails) that must not appear in the rate-limit storage."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.digest(secret, value.lower().encode(), hashlib.sha256).hex()[:32]
