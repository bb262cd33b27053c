"""The fields of imported comments, cleaned as fast as an import of millions needs: emails
(normalised, or kept and flagged), websites, truncated client addresses and the rendered HTML
of each text. Each gives what the domain's own cleaning gives, only quicker for the common
cases and remembered for values that repeat (tests/test_import.py holds them to it);
:func:`cleaned_fields` gives a whole comment's.
"""

from __future__ import annotations

import hashlib
import re
import socket
import struct
from datetime import datetime
from functools import lru_cache
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from moderation.domain.comments import (
    MAX_AUTHOR,
    MAX_EMAIL,
    clean_email,
    clean_url,
    strip_controls,
)
from moderation.domain.errors import FieldError
from moderation.domain.privacy import truncate_ip
from moderation.domain.rendering import (
    link_bare_urls,
    paragraphs,
    render_comment,
    render_markdown,
)
from moderation.domain.status import CommentStatus
from moderation.domain.websites import website_key
from moderation.porting import CommentRecord, Status, TextFormat

#: The rule name imported comments carry (their decision was made elsewhere).
IMPORTED_RULE = "imported"
ANONYMOUS = "Anonymous"

#: A plain ASCII address (most of them): email-validator's verdict and normal form are
#: known without asking it, which costs a millisecond an address on a busy machine.
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63})$"
)
_IPV4 = re.compile(
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\."
    r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$"
)


def imported_email(raw: str | None) -> tuple[str, bool]:
    """The email normalised, or as found (cleaned, cut to fit) and flagged when invalid."""
    if not raw:
        return "", False
    plain = _PLAIN_EMAIL.match(raw)
    if plain is not None and len(raw) <= MAX_EMAIL:
        domain = plain.group(1)
        tld = domain.rsplit(".", 1)[-1].lower()
        if tld not in SPECIAL_USE_DOMAIN_NAMES and "--" not in domain:
            local = raw[: len(raw) - len(domain) - 1]
            return f"{local}@{domain.lower()}", False
    return _checked_email(raw)


@lru_cache(maxsize=16_384)
def _checked_email(raw: str) -> tuple[str, bool]:
    """What email-validator makes of an address that is not plain."""
    try:
        return clean_email(raw), False
    except FieldError:
        return strip_controls(raw, single_line=True)[:MAX_EMAIL], True


@lru_cache(maxsize=16_384)
def imported_website(raw: str | None) -> tuple[str, str]:
    """The website when it is an http(s) address that fits, else nothing; and its search
    key (:func:`website_key`), both remembered: a person's website repeats."""
    if not raw:
        return "", ""
    try:
        website = clean_url(raw)
    except FieldError:
        return "", ""
    return website, website_key(website)


@lru_cache(maxsize=4096)
def imported_line(raw: str, limit: int) -> str:
    """A one-line field (a name, a user agent) as new comments clean it, cut to ``limit``
    (names and user agents repeat: remembered)."""
    return strip_controls(raw, single_line=True)[:limit]


@lru_cache(maxsize=65_536)
def truncated_address(ip: str) -> str:
    """The truncated address, as :func:`truncate_ip` gives it (addresses repeat:
    remembered; plain IPv4 and IPv6 done by hand, without ``ipaddress``'s objects)."""
    plain = _IPV4.match(ip)
    if plain is not None:
        return f"{plain.group(1)}.{plain.group(2)}.{plain.group(3)}.0/24"
    if ":" in ip and "%" not in ip and "." not in ip:
        try:
            packed = socket.inet_pton(socket.AF_INET6, ip.strip())
        except (OSError, ValueError):
            return truncate_ip(ip)
        if packed.startswith(_IPV4_MAPPED):
            return truncate_ip(ip)
        # the /48 keeps three groups; the zeros after them are the longest run: "::"
        groups = list(struct.unpack(">3H", packed[:6]))
        while groups and groups[-1] == 0:
            groups.pop()
        return ":".join(f"{group:x}" for group in groups) + "::/48"
    return truncate_ip(ip)


_IPV4_MAPPED = bytes(10) + b"\xff\xff"
#: Texts up to this long have their rendering remembered (imports repeat "Thanks!" often).
_CACHED_TEXT = 1024


#: What the sanitiser changes in text that has no tag: it escapes these (U+00A0 as
#: ``&nbsp;``); text with none of them comes out of it as it went in.
_ESCAPED = re.compile("[<>&\u00a0]")


def imported_html(text: str) -> str:
    """The stored HTML of an HTML comment, as :func:`render_comment` gives it (plain text,
    most comments, skips the sanitiser: it would return it unchanged; so does plain text
    in one ``<p>`` element, which the sanitiser keeps as it is)."""
    if _ESCAPED.search(text) is None or (
        text.startswith("<p>")
        and text.endswith("</p>")
        and _ESCAPED.search(text, 3, len(text) - 4) is None
    ):
        return paragraphs(link_bare_urls(text))
    return _render_short(text) if len(text) <= _CACHED_TEXT else render_comment(text)


@lru_cache(maxsize=4096)
def _render_short(text: str) -> str:
    return render_comment(text)


def cleaned_fields(record: CommentRecord, now: datetime) -> dict[str, Any]:
    """A comment's fields cleaned, truncated, sanitised: its row but for the id, the thread
    and the parent (which the database gives); ``now``: the import's time."""
    email, flagged = imported_email(record.email)
    website, website_search_key = imported_website(record.website)
    text = strip_controls(record.text)
    html = render_markdown(text) if record.text_format is TextFormat.MARKDOWN else None
    reason = record.held_reason or f"Imported from {record.source}"
    if record.notes:
        reason = f"{reason} ({'; '.join(record.notes)})"
    return {
        "author": imported_line(record.author or "", MAX_AUTHOR) or ANONYMOUS,
        "email": email,
        "email_flagged": flagged,
        "url": website,
        "website_key": website_search_key,
        "text": text,
        "html": html if html is not None else imported_html(text),
        "status": _STATUSES[record.status],
        "created_at": record.created_at,
        # the import is the last change here: deleted comments get their grace period
        # before purging, rejected ones theirs before retention clears their email
        "updated_at": now,
        "ip_truncated": truncated_address(record.ip or ""),
        "user_agent": imported_line(record.user_agent or "", 500),
        "held_by_rule": (record.held_by_rule or IMPORTED_RULE)[:40],
        "held_reason": reason[:500],
        "source": record.source[:20],
        "source_id": stored_id(record.source_id),
        "moderator_id": None,
    }


def stored_id(source_id: str) -> str:
    """``source_id`` as stored: itself, or a digest when longer than the column."""
    if len(source_id) <= 255:
        return source_id
    return "sha256:" + hashlib.sha256(source_id.encode()).hexdigest()


#: A record's status as stored (the same values: one look-up instead of two enum calls).
_STATUSES = {status: CommentStatus(status.value) for status in Status}
