"""Secrets the service must be able to read back (integration signing secrets), stored so
that a copy of the database alone does not give them away.

Each value is sealed with AES-256-GCM under a key derived from the service's
``SECRET_KEY`` with HKDF-SHA256, and bound to a context (the integration's public id) so a
sealed value copied onto another row does not open. Stored as ``v1:`` + URL-safe base64
of the 12-byte nonce and the ciphertext with its tag.

Whoever also holds ``SECRET_KEY`` can open them: it is what signs sessions and forms, and
it lives in the instance folder (or ``MODERATION_SECRET_KEY``), not in the database.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

from moderation.domain.errors import N_, DomainError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"
NONCE_BYTES = 12
#: Changing this changes every key: the migration that sealed existing secrets uses it too.
HKDF_INFO = b"moderation/integration-secrets/v1"


class SecretUnreadable(DomainError):
    """A sealed secret does not open with this ``SECRET_KEY`` (it changed since)."""


def _cipher(secret_key: str) -> AESGCM:
    """The cipher under ``secret_key``. The library is imported here: its OpenSSL bindings
    add about 7 MB to a process, and only integration secrets and a dashboard secret shown
    once are sealed."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(key)


def seal(secret_key: str, value: str, context: str) -> str:
    """``value`` encrypted for storage, bound to ``context``."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(secret_key).encrypt(nonce, value.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def is_sealed(stored: str) -> bool:
    """Whether ``stored`` is in the sealed format (not a secret kept in clear)."""
    return stored.startswith(PREFIX)


def unseal(secret_key: str, stored: str, context: str) -> str:
    """The value sealed in ``stored``; :class:`SecretUnreadable` if it does not open."""
    if not is_sealed(stored):
        raise SecretUnreadable(
            N_("A secret is stored in clear; run 'moderation db upgrade' to seal it.")
        )
    from cryptography.exceptions import InvalidTag

    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        opened = _cipher(secret_key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except (InvalidTag, ValueError, binascii.Error):
        raise SecretUnreadable(
            N_(
                "The secret of %(context)s cannot be decrypted with this SECRET_KEY: the key "
                "changed since the secret was stored. Restore the previous SECRET_KEY, or "
                "issue a new secret with 'moderation integrations rotate %(context)s "
                "--revoke-now' and give it to the integrator."
            ),
            context=context,
        ) from None
    return opened.decode()
