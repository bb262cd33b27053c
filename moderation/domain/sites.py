"""Rules for sites: slugs, embedding origins, moderation policies and word lists."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from moderation.domain.errors import N_, InvalidInput

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

_Choice = TypeVar("_Choice", bound=StrEnum)


class SitePolicy(StrEnum):
    """How a site treats new comments before any rule looks at them."""

    PREMODERATE = "premoderate"  # every comment waits for a moderator
    TRUSTED = "trusted"  # authors with an approved comment on the site go straight through
    OPEN = "open"  # published unless a rule holds it


class CommentFormat(StrEnum):
    """How a site reads what commenters type."""

    WORDPRESS = "wordpress"  # text with WordPress's inline tags; blank lines make paragraphs
    MARKDOWN = "markdown"  # CommonMark (raw HTML shown as typed)


def _choice(kind: type[_Choice], value: str, message: str, placeholder: str) -> _Choice:
    """``value`` as a member of ``kind``, or ``message`` (with ``value`` as its
    ``placeholder`` and the valid names as ``names``)."""
    try:
        return kind(value.strip().lower())
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise InvalidInput(message, names=names, **{placeholder: value}) from None


def clean_comment_format(value: str) -> CommentFormat:
    """A format name, or a message listing the valid ones."""
    return _choice(
        CommentFormat, value, N_("Unknown format %(format)r: choose one of %(names)s."), "format"
    )


def clean_slug(value: str) -> str:
    """A site slug: lowercase letters, digits and inner dashes, 1-64 characters."""
    slug = value.strip()
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            N_("Invalid site slug %(slug)r: use 1-64 lowercase letters, digits and dashes."),
            slug=value,
        )
    return slug


def clean_origin(value: str) -> str:
    """Normalise an origin to ``scheme://host[:port]`` or refuse it.

    Only http and https origins, no path, query, fragment or credentials: the widget
    compares the browser's ``Origin`` header with these strings exactly.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(N_("Malformed origin %(origin)r."), origin=value) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            N_("Malformed origin %(origin)r: expected http(s)://host[:port]."), origin=value
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidInput(
            N_("Malformed origin %(origin)r: an origin has no path, query or credentials."),
            origin=value,
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def clean_origins(values: list[str] | tuple[str, ...]) -> list[str]:
    """Normalise a list of origins, dropping duplicates and keeping order."""
    cleaned: list[str] = []
    for value in values:
        origin = clean_origin(value)
        if origin not in cleaned:
            cleaned.append(origin)
    return cleaned


class CommentOrder(StrEnum):
    """The order of a thread's top-level comments (replies stay in the order written)."""

    OLDEST = "oldest"  # oldest first, as WordPress by default
    NEWEST = "newest"


def clean_order(value: str) -> CommentOrder:
    """An order name, or a message listing the valid ones."""
    return _choice(
        CommentOrder, value, N_("Unknown order %(order)r: choose one of %(names)s."), "order"
    )


def reader_order(value: str | None) -> CommentOrder | None:
    """The order a reader asked for (``?sort=``), or ``None`` for anything else."""
    try:
        return CommentOrder(value) if value else None
    except ValueError:
        return None


def clean_policy(value: str) -> SitePolicy:
    """A policy name, or a message listing the valid ones."""
    return _choice(
        SitePolicy, value, N_("Unknown policy %(policy)r: choose one of %(names)s."), "policy"
    )


def parse_word_list(text: str) -> list[str]:
    """One word or phrase per line (or comma-separated), lowercased, without blanks."""
    words: list[str] = []
    for line in text.replace(",", "\n").splitlines():
        word = line.strip().lower()
        if word and word not in words:
            words.append(word)
    return words
