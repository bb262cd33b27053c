"""What may be public, and how personal data is reduced before it is stored.

Public serialisation is an explicit allowlist: a comment leaves the service only as a
:class:`PublicComment`. Emails never do; identicons come from a *keyed* hash.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

#: How many addresses :func:`truncate_ip` and :func:`rate_limit_address` remember: a
#: submission asks for the same address up to four times (limits, classifier, storage).
_REMEMBERED_ADDRESSES = 1024


@lru_cache(maxsize=_REMEMBERED_ADDRESSES)
def truncate_ip(address: str) -> str:
    """Keep the network only: /24 for IPv4, /48 for IPv6 (an IPv4-mapped v6 is v4)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@lru_cache(maxsize=_REMEMBERED_ADDRESSES)
def rate_limit_address(address: str) -> str:
    """The unit a client is limited by: its IPv4 address, or its IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip() or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def avatar_key(secret: bytes, site_id: int, identity: str) -> str:
    """A keyed hash of an email (or name) on one site: stable per person on that site,
    different on every other site (the same person's avatars cannot be matched across
    sites), useless without the key."""
    message = f"avatar:{site_id}:{identity.strip().lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


#: The avatar of a comment shown to its author before it is published: a blank square.
#: Never one derived from the email just typed, which would equal the avatar of that
#: address's published comments and so tell anyone whether it has commented.
PREVIEW_AVATAR = "0" * 32


@lru_cache(maxsize=4096, typed=True)  # typed: 1 and True write differently
def public_version(secret: bytes, *public_state: object) -> str:
    """An opaque version of a public answer (its ETag): a keyed hash of the public state
    that shapes the answer. It changes when that state changes and tells nothing else: no
    internal id, no count, nothing to compare across sites. (Remembered: every read of an
    unchanged thread asks for the same one.)"""
    message = "\x1f".join(map(str, public_state)).encode()
    return hmac.new(secret, b"public-version:" + message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PublicComment:
    """The fields of an approved comment anyone may see."""

    id: int
    parent_id: int | None
    author: str
    url: str
    avatar: str
    html: str
    created_at: datetime
    depth: int
    by_moderator: bool
    #: its author edited it (readers see "edited")
    edited: bool = False

    def to_json(self) -> dict[str, object]:
        """The JSON shape of the public API."""
        return {
            "id": self.id,
            "parent": self.parent_id,
            "author": self.author,
            "url": self.url or None,
            "avatar": self.avatar,
            "html": self.html,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "depth": self.depth,
            "by_moderator": self.by_moderator,
        }
