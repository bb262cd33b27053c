"""Block lists: emails, email domains, website domains and IP prefixes a site refuses.

Pure rules: what an entry may look like (:func:`clean_entry`) and which entries a
submission could match (:func:`candidates`), so the service needs one indexed lookup.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlsplit

from moderation.domain.errors import N_, InvalidInput

_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}$")


class BlockKind(StrEnum):
    """What a block list entry names."""

    EMAIL = "email"
    EMAIL_DOMAIN = "email_domain"
    WEBSITE_DOMAIN = "website_domain"  # the website field and links in the comment
    IP_PREFIX = "ip_prefix"  # an IPv4 /24 or an IPv6 /64


def clean_kind(value: str) -> BlockKind:
    """A kind name, or a message listing the valid ones."""
    try:
        return BlockKind(value.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(kind.value for kind in BlockKind)
        raise InvalidInput(
            N_("Unknown block list kind %(kind)r: choose one of %(names)s."),
            kind=value,
            names=names,
        ) from None


def clean_entry(kind: BlockKind, value: str) -> str:
    """The stored form of an entry: lower case; a domain without dots around it; an
    address or network as its /24 (IPv4) or /64 (IPv6)."""
    text = value.strip().lower()
    if kind is BlockKind.EMAIL:
        local, _, domain = text.rpartition("@")
        if not local or not _DOMAIN.match(domain) or len(text) > 200:
            raise InvalidInput(N_("%(value)r is not an email address."), value=value)
        return text
    if kind is BlockKind.IP_PREFIX:
        return _prefix(text, value)
    domain = text.removeprefix("*.").removeprefix("@").strip(".")
    if not _DOMAIN.match(domain):
        raise InvalidInput(N_("%(value)r is not a domain like spam.example."), value=value)
    return domain


def _prefix(text: str, original: str) -> str:
    """An address or a /24 or /64 network, as its /24 or /64."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(
            N_("%(value)r is not an IP address or prefix like 203.0.113.0/24."), value=original
        ) from None
    wanted = 24 if network.version == 4 else 64
    if "/" in text and network.prefixlen != wanted:
        raise InvalidInput(
            N_("Block IPv4 addresses by /24 and IPv6 addresses by /64 (got %(value)r)."),
            value=original,
        )
    return str(network.supernet(new_prefix=wanted) if network.prefixlen > wanted else network)


def _parents(domain: str) -> list[str]:
    """``a.b.example`` and the domains above it with at least two labels."""
    labels = domain.strip(".").lower().split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


def host_of(address: str) -> str:
    """The host of a web address, with or without a scheme ("" when there is none)."""
    text = address.strip()
    if "//" not in text:
        text = "//" + text
    try:
        return (urlsplit(text).hostname or "").lower()
    except ValueError:
        return ""


def ip_prefixes(client_ip: str) -> list[str]:
    """The /24 (IPv4) or /64 (IPv6) of a client address, as stored entries read."""
    return list(_ip_prefixes(client_ip))


@lru_cache(maxsize=1024)  # every submission asks (the block list's candidates)
def _ip_prefixes(client_ip: str) -> tuple[str, ...]:
    """:func:`ip_prefixes`, remembered."""
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return ()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    wanted = 24 if address.version == 4 else 64
    return (str(ipaddress.ip_network(f"{address}/{wanted}", strict=False)),)


def candidates(
    email: str, website: str, links: Sequence[str], client_ip: str
) -> list[tuple[BlockKind, str]]:
    """Every entry that would block this submission if the site listed it."""
    found: list[tuple[BlockKind, str]] = []
    address = email.strip().lower()
    if "@" in address:
        found.append((BlockKind.EMAIL, address))
        found.extend((BlockKind.EMAIL_DOMAIN, d) for d in _parents(address.rpartition("@")[2]))
    for link in (website, *links):
        host = host_of(link) if link else ""
        found.extend((BlockKind.WEBSITE_DOMAIN, d) for d in _parents(host) if host)
    found.extend((BlockKind.IP_PREFIX, prefix) for prefix in ip_prefixes(client_ip))
    return list(dict.fromkeys(found))


def blocked_reason(kind: BlockKind, value: str, note: str) -> str:
    """What a moderator reads on a blocked comment (an email address is not repeated)."""
    what = {
        BlockKind.EMAIL: "The email address is on the site's block list",
        BlockKind.EMAIL_DOMAIN: f"The email domain {value} is on the site's block list",
        BlockKind.WEBSITE_DOMAIN: f"The domain {value} is on the site's block list",
        BlockKind.IP_PREFIX: f"The sender's network {value} is on the site's block list",
    }[kind]
    return f"{what}: {note}" if note else f"{what}."
