"""Which origin a request comes from, and whether a site lets it in.

Cross-site callers are checked by their ``Origin`` header, else the origin of their
``Referer``; with neither, the request is refused. The service's own origin is allowed for
the widget page posting to itself (its form lives in the iframe on this origin).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import request

from moderation.domain.errors import DomainError
from moderation.domain.sites import clean_origin
from moderation.models import Site
from moderation.services.sites import SiteInfo


@lru_cache(maxsize=256)
def normalise(value: str) -> str | None:
    """``scheme://host[:port]`` of a URL or origin, or ``None`` if it is not one.
    (Remembered: a pure function of a header most requests to a site send alike, asked
    twice by every cross-site post, by its door and by its CORS answer; 256 values of at
    most a header's size each.)"""
    if not value or value == "null":
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # such as an unclosed IPv6 bracket: "http://[::1"
        return None
    if not parts.scheme or not parts.netloc:
        return None
    try:
        return clean_origin(f"{parts.scheme}://{parts.netloc}")
    except DomainError:
        return None


def request_origin() -> str | None:
    """The caller's origin: ``Origin``, else ``Referer``'s origin."""
    return normalise(request.headers.get("Origin", "")) or normalise(
        request.headers.get("Referer", "")
    )


def own_origin() -> str:
    """The origin this service is reached at (through trusted proxies, if any)."""
    return normalise(request.host_url) or ""


def site_allows(site: Site | SiteInfo, origin: str | None, include_own: bool = False) -> bool:
    """Whether ``origin`` is on the site's exact allowlist (or is this service itself)."""
    if origin is None:
        return False
    return origin in site.origins or (include_own and origin == own_origin())
