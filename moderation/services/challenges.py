"""ALTCHA proof-of-work challenges for suspicious submissions (issue 19).

Challenges are made and checked with the ``altcha`` package (PoW v2, ``PBKDF2/SHA-256``,
which the vendored widget solves with the browser's Web Crypto in a worker). Nothing is
fetched from anywhere: the challenge travels inside the page (or the 428 answer) and the
solution comes back with the submission, in the field ``altcha``.

A challenge is signed with a key derived from ``SECRET_KEY`` and carries, in its signed
``data``:

- ``sub``: a keyed digest of *this* submission (site, thread, form token, author, email,
  website, parent and text), so a solution lets only the comment it was asked for through;
  the form token is spent when the comment is stored, so a solution is good once;
- ``for``: the suspicions it was asked for (:class:`~moderation.domain.challenge.Suspicion`);
  solving it waives those and no others.

It is pre-solved on the server (ALTCHA's deterministic mode, with a key signature), so
checking an answer costs one HMAC, not a key derivation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from altcha import Payload, create_challenge, verify_solution
from flask import current_app

from moderation.clock import utcnow
from moderation.domain.challenge import Suspicion, parse_suspicions
from moderation.domain.comments import CommentDraft
from moderation.domain.errors import N_, DomainError

#: The form (and JSON) field the solution comes back in: ALTCHA's default name.
FIELD = "altcha"
#: The one algorithm the vendored widget is given a worker for.
ALGORITHM = "PBKDF2/SHA-256"

ASKED = N_(
    "Please let your browser prove it is not a bulk sender: it solves a small puzzle "
    "(a few seconds), then post your comment again. What you wrote is kept."
)
ASKED_AGAIN = N_(
    "The answer to the check was not accepted (it expired, or was for another comment). "
    "Please let your browser solve this new one, then post again."
)


class ChallengeRequired(DomainError):
    """The submission is suspicious: it is stored only with a solved challenge."""

    def __init__(self, challenge: dict[str, Any], reasons: frozenset[Suspicion], again: bool):
        super().__init__(ASKED_AGAIN if again else ASKED)
        self.challenge = challenge
        self.reasons = reasons


def _key(purpose: bytes) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"altcha:" + purpose, hashlib.sha256).hexdigest()


def binding(site_slug: str, thread_key: str, form_token: str, draft: CommentDraft) -> str:
    """The keyed digest that ties a challenge to one submission."""
    parts = [
        site_slug,
        thread_key,
        form_token,
        draft.author,
        draft.email,
        draft.url,
        str(draft.parent_id or ""),
        draft.text,
    ]
    message = "\x1f".join(parts).encode()
    return hmac.new(_key(b"binding").encode(), message, hashlib.sha256).hexdigest()[:32]


def issue(bound_to: str, reasons: frozenset[Suspicion]) -> dict[str, Any]:
    """A new challenge for the submission ``bound_to`` names, as the widget reads it."""
    config = current_app.config
    counter_max = max(1, int(config["CHALLENGE_COUNTER_MAX"]))
    challenge = create_challenge(
        ALGORITHM,
        int(config["CHALLENGE_COST"]),
        counter=counter_max // 2 + secrets.randbelow(counter_max - counter_max // 2),
        expires_at=utcnow() + timedelta(seconds=int(config["CHALLENGE_MAX_AGE"])),
        data={"sub": bound_to, "for": sorted(reason.value for reason in reasons)},
        hmac_secret=_key(b"challenge"),
        hmac_key_secret=_key(b"derived-key"),
    )
    return challenge.to_dict()


def waived(answer: str, bound_to: str) -> frozenset[Suspicion] | None:
    """The suspicions a solved challenge waives for this submission; ``None`` when the
    answer is not a valid, unexpired solution of a challenge issued for it."""
    if not answer or len(answer) > 4000:
        return None
    try:
        payload = Payload.from_base64(answer)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    result = verify_solution(payload, _key(b"challenge"), hmac_key_secret=_key(b"derived-key"))
    data = payload.challenge.parameters.data
    if not result.verified or not isinstance(data, dict) or data.get("sub") != bound_to:
        return None
    return parse_suspicions(data.get("for"))
