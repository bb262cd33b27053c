"""What a submission's limits are asked, and what they answer."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many

#: The parts of a counter's key (a site, an address, an email's keyed hash, ...).
Key = tuple[str, ...]

#: One limit to count a submission against: (scope, limits in Flask-Limiter notation such
#: as ``"5/minute;30/hour"``, the key's parts).
Check = tuple[str, str, Key]


@dataclass(frozen=True)
class Breach:
    """A limit that was exceeded and how long until it lets the client through."""

    limit: str
    scope: str
    retry_after: int


@dataclass(frozen=True)
class Admission:
    """The limits' answer for one submission: a breach, a flood wait, or neither."""

    breach: Breach | None = None
    flood_wait: int | None = None


@lru_cache(maxsize=256)
def parse_limits(text: str) -> tuple[RateLimitItem, ...]:
    """``"5/minute;30/hour"`` as items; an empty setting is no limit. (Remembered: the
    settings are a handful of strings, and every submission counts against three.)"""
    return tuple(parse_many(text)) if text.strip() else ()


def over_limit(
    previous: int, previous_ttl: float, current: int, expiry: int, amount: int, limit: int
) -> bool:
    """Whether ``amount`` more hits would pass ``limit`` in a sliding window: the current
    window's count plus the previous window's, weighted by the part of it still inside
    the last ``expiry`` seconds. Compared as the Redis script compares it, not rounded
    down as ``limits`` rounds it: rounded, five hits just before a window turned over
    weighed 4 just after it, and ``5/minute`` let a sixth through within a second."""
    return previous * previous_ttl / expiry + current + amount > limit
