"""Remark42's backup (``backup-SITE-DATE.gz``, JSON lines, gzip optional): the reader.

The first line is metadata: ``{"version": 1, "users": [{"id", "blocked": {"status"},
...}], "posts": [{"url", "read_only"}]}``. Every other line is a comment: ``id``, ``pid``
(the parent, ``""`` for none), ``text`` (HTML, its ``<p>`` paragraphs read as blank
lines), ``user`` (``name``, ``id``, ``ip``, ``block``), ``locator`` (``site``, ``url``),
``time`` (RFC 3339), ``delete``, ``title`` (the page's). Remark42 keeps no emails and
stores an HMAC of the address as ``ip``: only values that are real IP addresses are kept.
It publishes at once, so a comment is ``visible``, ``deleted`` (``delete``), or ``blocked``
(its author is blocked: Remark42 hides it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from moderation.porting.building import CommentBuilder, clean, paragraphs_as_blank_lines
from moderation.porting.jsonlines import json_lines, text_field
from moderation.porting.options import ReadOptions, ThreadKeying, choose_key
from moderation.porting.records import (
    MAX_THREAD_KEY_LENGTH,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.replies import order_replies
from moderation.porting.sources import Source, open_source
from moderation.porting.statuses import REMARK42_STATUSES

SOURCE_NAME = "remark42"
_VERSIONS = (0, 1)


def read_remark42(source: Source, options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from a Remark42 backup, parents before replies."""
    return order_replies(_read(source, options or ReadOptions()), grouped=False)


def _read(source: Source, options: ReadOptions) -> Iterator[Item]:
    """The backup's items in file order; threads are announced at their first comment."""
    builder = CommentBuilder(SOURCE_NAME, options, REMARK42_STATUSES, TextFormat.HTML)
    threads: dict[str, ThreadRecord | None] = {}
    blocked: set[str] = set()
    read_only: set[str] = set()
    with open_source(source) as stream:
        lines = json_lines(stream)
        first = next(lines, None)
        if first is None:
            raise ImportFileError("The file is empty: not a Remark42 backup.")
        number, meta = first
        if isinstance(meta, Refusal) or "version" not in meta or "id" in meta:
            raise ImportFileError(
                "This is not a Remark42 backup: its first line should be the metadata "
                '({"version": 1, "users": [...], "posts": [...]}).'
            )
        if meta["version"] not in _VERSIONS:
            raise ImportFileError(
                f"This Remark42 backup has version {meta['version']!r}; versions 0 and 1 are read."
            )
        blocked, read_only = _meta(meta)
        for number, value in lines:
            if isinstance(value, Refusal):
                yield value
                continue
            url = _locator_url(value)
            if url not in threads:
                threads[url] = _thread(url, value, options.keying, read_only)
                if threads[url] is not None:
                    yield threads[url]  # type: ignore[misc]
            thread = threads[url]
            if thread is None:
                yield Refusal(
                    source_id=clean(text_field(value.get("id"))),
                    reason=RefusalReason.NO_THREAD,
                    detail=f"line {number}: its locator has no usable URL",
                )
                continue
            yield _build(builder, value, thread, blocked)


def _meta(meta: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The ids of blocked users and the URLs of read-only pages."""
    blocked = {
        str(user.get("id"))
        for user in meta.get("users") or ()
        if isinstance(user, dict)
        and isinstance(user.get("blocked"), dict)
        and user["blocked"].get("status") is True
    }
    read_only = {
        str(post.get("url"))
        for post in meta.get("posts") or ()
        if isinstance(post, dict) and post.get("read_only") is True
    }
    return blocked, read_only


def _locator_url(value: dict[str, Any]) -> str:
    """The comment's page URL (``locator.url``), or ``""``."""
    locator = value.get("locator")
    url = locator.get("url") if isinstance(locator, dict) else None
    return url.strip() if isinstance(url, str) else ""


def _thread(
    url: str, value: dict[str, Any], keying: ThreadKeying, read_only: set[str]
) -> ThreadRecord | None:
    """The thread of a page, titled from its first comment's ``title``."""
    key = choose_key(keying, url, url)
    if not key or len(key) > MAX_THREAD_KEY_LENGTH:
        return None
    title = text_field(value.get("title")) or ""
    return ThreadRecord(
        key=key, title=" ".join(title.split()), url=url, source_id=url, is_open=url not in read_only
    )


def _build(
    builder: CommentBuilder, value: dict[str, Any], thread: ThreadRecord, blocked: set[str]
) -> Item:
    """One comment's record or refusal."""
    user = value.get("user")
    user = user if isinstance(user, dict) else {}
    if value.get("delete") is True:
        status = "deleted"
    elif user.get("block") is True or str(user.get("id")) in blocked:
        status = "blocked"
    else:
        status = "visible"
    return builder.build(
        source_id=text_field(value.get("id")),
        thread=thread,
        parent_source_id=text_field(value.get("pid")),
        author=text_field(user.get("name")),
        email=None,
        website=None,
        ip=_real_address(user.get("ip")),
        user_agent=None,
        created=text_field(value.get("time")),
        text=paragraphs_as_blank_lines(text_field(value.get("text"))),
        source_status=status,
    )


def _real_address(value: object) -> str | None:
    """``value`` when it is an IP address; Remark42 usually stores a hash instead."""
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
