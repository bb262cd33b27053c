"""Rules about a deployment's settings that ``moderation doctor`` applies: pure functions
of the values, each answering a state (``ok``, ``warn``, ``fail``) and what to do."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

OK, WARN, FAIL = "ok", "warn", "fail"

#: Bits a secret key needs, estimated from its length and the spread of its characters.
SECRET_KEY_MIN_BITS = 128
#: Values of the project's own examples and tests: never for a real deployment.
KNOWN_SECRET_KEYS = frozenset({"test-secret-key-not-for-production", "change-me", "secret", "dev"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Finding:
    """A check's answer: its state and a sentence saying why, and what to do."""

    name: str
    state: str
    message: str


def estimated_bits(text: str) -> float:
    """Shannon entropy of ``text`` per character, times its length: a generous estimate
    of what guessing it costs (a random key scores close to its true strength)."""
    if not text:
        return 0.0
    counts = Counter(text)
    per_character = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return per_character * len(text)


def secret_key_finding(secret_key: str, generated: bool) -> Finding:
    """A key given by the operator must be long and random; the generated one always is."""
    if generated:
        return Finding(
            "secret_key",
            OK,
            "generated into the instance folder; give every machine the same "
            "MODERATION_SECRET_KEY if there are several",
        )
    if secret_key in KNOWN_SECRET_KEYS:
        return Finding("secret_key", FAIL, "SECRET_KEY is an example value: generate one")
    bits = estimated_bits(secret_key)
    if bits < SECRET_KEY_MIN_BITS:
        return Finding(
            "secret_key",
            FAIL,
            f"SECRET_KEY is weak (about {bits:.0f} bits, wanted {SECRET_KEY_MIN_BITS}): use "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    return Finding("secret_key", OK, f"set (about {bits:.0f} bits)")


def public_url_finding(public_url: str, cookie_secure: bool) -> Finding:
    """PUBLIC_URL: an absolute https address (emails link to it)."""
    if not public_url:
        return Finding(
            "public_url", WARN, "PUBLIC_URL is not set: no email can link back, so none is sent"
        )
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Finding(
            "public_url", FAIL, f"PUBLIC_URL {public_url!r} is not an http(s) address with a host"
        )
    if parts.query or parts.fragment:
        return Finding("public_url", FAIL, "PUBLIC_URL must not carry a query or a fragment")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return Finding(
            "public_url",
            WARN,
            "PUBLIC_URL is plain http: sign-ins and tokens cross the network readable; "
            "terminate TLS in front (docs/deploy/nginx.conf)",
        )
    if parts.scheme == "https" and not cookie_secure:
        return Finding(
            "public_url", WARN, "served over https but SESSION_COOKIE_SECURE is off: turn it on"
        )
    return Finding("public_url", OK, public_url)


def limits_finding(storage_is_process_local: bool, processes: int) -> Finding:
    """Limits counted in memory hold for one process only."""
    if not storage_is_process_local:
        return Finding("processes", OK, "rate limits are shared (any number of processes)")
    if processes > 1:
        return Finding(
            "processes",
            FAIL,
            f"{processes} processes on in-memory rate limits would multiply every limit: "
            "set MODERATION_RATELIMIT_STORAGE_URI=redis://...",
        )
    return Finding(
        "processes",
        OK,
        "one process, limits in its memory (several processes or machines need Redis)",
    )


def mail_finding(problem: str, server: str, use_tls: bool, use_ssl: bool, username: str) -> Finding:
    """Mail settings: absent (a warning: nothing is sent), inconsistent (a failure), or a
    password sent without encryption (a warning)."""
    if use_tls and use_ssl:
        return Finding("mail", FAIL, "MAIL_USE_TLS and MAIL_USE_SSL are both on: choose one")
    if not server and problem:
        return Finding("mail", WARN, problem)
    if problem:
        return Finding("mail", FAIL, problem)
    if username and not (use_tls or use_ssl):
        return Finding("mail", WARN, "the SMTP password would travel unencrypted: set MAIL_USE_TLS")
    return Finding("mail", OK, f"ready to send through {server or 'the console'}")


def clock_finding(skew_seconds: float | None) -> Finding:
    """This machine's clock against the database server's (signatures allow 5 minutes)."""
    if skew_seconds is None:
        return Finding("clock", OK, "the database shares this machine's clock")
    drift = abs(skew_seconds)
    if drift > 60:
        return Finding(
            "clock",
            FAIL,
            f"{drift:.0f} s apart from the database's clock: webhook signatures and tokens "
            "will be refused; run NTP (systemd-timesyncd, chrony)",
        )
    if drift > 2:
        return Finding("clock", WARN, f"{drift:.1f} s apart from the database's clock: check NTP")
    return Finding("clock", OK, f"{drift:.2f} s from the database's clock")
