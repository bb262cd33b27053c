"""Raw fields to a :class:`CommentRecord`, or a :class:`Refusal` saying what is wrong.

Every reader hands its fields to one :class:`CommentBuilder`, so the same rules hold for
every format: an id and a known status are required; a date is required unless the comment
is deleted (Remark42 and Isso keep deleted comments as placeholders, sometimes undated, so
their replies keep their place); the text is required unless deleted, and at most
``max_text_length`` characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from moderation.porting.dates import parse_datetime
from moderation.porting.options import ReadOptions
from moderation.porting.records import (
    CommentKind,
    CommentRecord,
    Refusal,
    RefusalReason,
    Status,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.statuses import StatusMapper

#: The date given to a deleted placeholder that has none, so that it can still hold its replies.
UNDATED = datetime(1970, 1, 1, tzinfo=UTC)


def clean(value: str | None) -> str | None:
    """``value`` without surrounding whitespace, or None when nothing is left."""
    if value is None:
        return None
    value = value.strip()
    return value or None


#: An opening or closing ``<p>`` tag, with or without attributes.
_PARAGRAPH_TAG = re.compile(r"</?p(?:\s[^>]*)?>", re.IGNORECASE)


def paragraphs_as_blank_lines(html: str | None) -> str | None:
    """HTML made of ``<p>`` paragraphs (Disqus's and Remark42's texts) as a person types a
    comment here: paragraphs apart by a blank line, line breaks as ``<br>``.

    Kept as it came, the text would get a paragraph of its own around its paragraphs
    (``<p><p>...</p></p>``, which browsers read as empty paragraphs around each) and a
    ``<br>`` for each newline between them: comments render a text's blank lines as
    paragraphs and its newlines as line breaks. In such HTML a newline is a space, and
    stays one. A text without ``<p>`` is returned as it is.
    """
    if html is None or _PARAGRAPH_TAG.search(html) is None:
        return html
    blocks = (_collapsed(block) for block in _PARAGRAPH_TAG.split(html))
    return "\n\n".join(block for block in blocks if block)


_PRE_BLOCK = re.compile(r"(<pre(?:\s[^>]*)?>.*?</pre\s*>)", re.IGNORECASE | re.DOTALL)
#: HTML's white space: no-break and ideographic spaces are text, not layout
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")


def _collapsed(block: str) -> str:
    """A paragraph's runs of HTML white space as one space, except inside ``<pre>`` (code
    keeps its lines and indentation)."""
    parts = _PRE_BLOCK.split(block)
    # odd places hold the <pre> blocks the split kept
    joined = "".join(
        part if odd % 2 else _HTML_SPACE.sub(" ", part) for odd, part in enumerate(parts)
    )
    return joined.strip(" \t\r\n\f")


class CommentBuilder:
    """Builds records for one source under one set of options."""

    __slots__ = ("_max_text", "_source", "_statuses", "_text_format")

    def __init__(
        self,
        source: str,
        options: ReadOptions,
        default_statuses: Mapping[str, Status],
        text_format: TextFormat,
    ) -> None:
        self._source = source
        self._statuses = StatusMapper(default_statuses, options.status_overrides)
        self._max_text = options.max_text_length
        self._text_format = text_format

    def build(
        self,
        *,
        source_id: str | None,
        thread: ThreadRecord,
        parent_source_id: str | None,
        author: str | None,
        email: str | None,
        website: str | None,
        ip: str | None,
        user_agent: str | None,
        created: str | float | None,
        text: str | None,
        source_status: str,
        kind: CommentKind = CommentKind.COMMENT,
        text_format: TextFormat | None = None,
        held_by_rule: str | None = None,
        held_reason: str | None = None,
        exact_status: Status | None = None,
        notes: tuple[str, ...] = (),
    ) -> CommentRecord | Refusal:
        """The record, or the first reason it cannot be one.

        ``exact_status`` (from our own exports' metadata) bypasses the status map.
        """
        source_id = clean(source_id)
        if source_id is None:
            return self._refuse(None, thread, RefusalReason.MISSING_FIELD, "the comment has no id")
        status = exact_status or self._statuses.map(source_status)
        if status is None:
            detail = self._statuses.unknown_detail(source_status)
            return self._refuse(source_id, thread, RefusalReason.UNKNOWN_STATUS, detail)
        created_at = parse_datetime(created)
        if created_at is None:
            if status is not Status.DELETED:
                detail = (
                    f"date {created!r} cannot be read" if created else "the comment has no date"
                )
                return self._refuse(source_id, thread, RefusalReason.UNREADABLE_DATE, detail)
            created_at = UNDATED
            notes = (*notes, "deleted without a date: dated 1970-01-01")
        text = (text or "").strip()
        if not text and status is not Status.DELETED:
            return self._refuse(
                source_id, thread, RefusalReason.MISSING_FIELD, "the comment has no text"
            )
        if len(text) > self._max_text:
            detail = f"{len(text):,} characters; the limit is {self._max_text:,}"
            return self._refuse(source_id, thread, RefusalReason.TEXT_TOO_LONG, detail)
        parent = clean(parent_source_id)
        return CommentRecord(
            source=self._source,
            source_id=source_id,
            thread=thread,
            parent_source_id=parent,
            author=clean(author),
            email=clean(email),
            website=clean(website),
            ip=clean(ip),
            user_agent=clean(user_agent),
            created_at=created_at,
            text=text,
            text_format=text_format or self._text_format,
            source_status=source_status,
            status=status,
            kind=kind,
            held_by_rule=clean(held_by_rule),
            held_reason=clean(held_reason),
            notes=notes,
        )

    @staticmethod
    def _refuse(
        source_id: str | None, thread: ThreadRecord, reason: RefusalReason, detail: str
    ) -> Refusal:
        """A refusal for a comment of ``thread``."""
        return Refusal(source_id=source_id, reason=reason, detail=detail, thread_key=thread.key)
