"""Our own export: versioned JSON lines, read and written (schema: docs/export-format.md).

One object per line, UTF-8, in this order: a header, then each thread's line followed by
its comments' lines (parents before replies), then a closing line with the counts::

    {"format": "moderation-export", "version": 1, "exported_at": "2026-11-30T10:00:00Z",
     "site": "blog", "origin": "comments.example.com/blog", "emails": false, "addresses": false}
    {"type": "thread", "key": "/2026/11/hello/", "title": "Hello", "url": "https://...", "open": true}
    {"type": "comment", "id": "41", "thread": "/2026/11/hello/", "parent": null, ...}
    {"type": "end", "threads": 1, "comments": 1}

A file without its closing line was cut short: the reader yields what it holds, then raises
:class:`ImportFileError`. Readers ignore fields and line types they do not know, so that
version 1 can grow; a change that breaks that promise is version 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from moderation.porting.building import CommentBuilder, clean
from moderation.porting.dates import format_datetime
from moderation.porting.jsonlines import json_lines, text_field
from moderation.porting.options import ReadOptions
from moderation.porting.records import (
    CommentKind,
    CommentRecord,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.replies import order_replies
from moderation.porting.sources import Source, open_source
from moderation.porting.statuses import JSONL_STATUSES
from moderation.porting.writing import ExportWriter

FORMAT_NAME = "moderation-export"
FORMAT_VERSION = 1
SOURCE_NAME = "moderation"
_KINDS = {kind.value: kind for kind in CommentKind}
_FORMATS = {fmt.value: fmt for fmt in TextFormat}


class JsonlWriter(ExportWriter):
    """Writes our export (see :class:`ExportWriter`): the closing line, with the counts,
    is what tells a whole file from a cut one.

    ``origin`` names the exporting site (its public URL and slug, say) so that readers can
    keep two instances' ids apart.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        site: str = "",
        origin: str = "",
        include_emails: bool = False,
        include_addresses: bool = False,
        exported_at: datetime | None = None,
    ) -> None:
        super().__init__(out, include_emails=include_emails, include_addresses=include_addresses)
        self._threads = self._comments = 0
        self._write(
            {
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "exported_at": format_datetime(exported_at or datetime.now(UTC)),
                "site": site,
                "origin": origin,
                "emails": include_emails,
                "addresses": include_addresses,
            }
        )

    def write_thread(self, thread: ThreadRecord, comments: Iterable[CommentRecord]) -> None:
        """One thread's line, then its comments' (give parents before their replies)."""
        self._threads += 1
        self._write(
            {
                "type": "thread",
                "key": thread.key,
                "title": thread.title,
                "url": thread.url,
                "open": thread.is_open,
            }
        )
        for comment in comments:
            self._comments += 1
            self._write(self._comment_line(thread, comment))

    def close(self) -> None:
        """Write the closing line with the counts."""
        self._write({"type": "end", "threads": self._threads, "comments": self._comments})

    def _comment_line(self, thread: ThreadRecord, comment: CommentRecord) -> dict[str, Any]:
        """A comment as a JSON object."""
        line: dict[str, Any] = {
            "type": "comment",
            "id": comment.source_id,
            "thread": thread.key,
            "parent": comment.parent_source_id,
            "author": comment.author,
            "website": comment.website,
            "created_at": format_datetime(comment.created_at),
            "text": comment.text,
            "text_format": comment.text_format.value,
            "status": comment.status.value,
            "held_by_rule": comment.held_by_rule,
            "held_reason": comment.held_reason,
            "kind": comment.kind.value,
        }
        if self._emails:
            line["email"] = comment.email
        if self._addresses:
            line["ip"] = comment.ip
            line["user_agent"] = comment.user_agent
        return line

    def _write(self, value: dict[str, Any]) -> None:
        """One line: compact JSON, UTF-8 as is."""
        self._out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")


def read_jsonl(source: Source, options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from one of our exports, parents before replies.

    Thread keys are taken as written (keying options do not apply); statuses map to
    themselves unless overridden. With an ``origin`` in the header, ids become
    ``ORIGIN/ID``.
    """
    return order_replies(_read(source, options or ReadOptions()), grouped=True)


def _read(source: Source, options: ReadOptions) -> Iterator[Item]:
    """The export's items in file order, then a check that it was not cut short."""
    builder = CommentBuilder(SOURCE_NAME, options, JSONL_STATUSES, TextFormat.HTML)
    threads: dict[str, ThreadRecord] = {}
    announced: str | None = None
    with open_source(source) as stream:
        lines = json_lines(stream)
        prefix = _header(next(lines, None))
        counted = {"thread": 0, "comment": 0}
        for number, value in lines:
            if isinstance(value, Refusal):
                yield value
                continue
            kind = value.get("type")
            if kind == "end":
                _check_end(value, counted, number)
                return
            if kind == "thread":
                counted["thread"] += 1
                thread = _thread(value)
                if thread is not None:
                    threads[thread.key] = thread
            elif kind == "comment":
                counted["comment"] += 1
                key = text_field(value.get("thread")) or ""
                thread = threads.get(key) or ThreadRecord(key=key, source_id=key)
                if key and key not in threads:
                    threads[key] = thread
                if key and key != announced:
                    announced = key
                    yield thread
                yield _build(builder, value, thread, prefix, number)
    raise ImportFileError(
        "The export ends without its closing line: it was cut short (after "
        f"{counted['comment']:,} comments). What it holds was read; export it again."
    )


def _header(first: tuple[int, dict[str, Any] | Refusal] | None) -> str:
    """Check the header line; the prefix for ids (``"ORIGIN/"`` or ``""``)."""
    if first is None:
        raise ImportFileError("The file is empty: not a moderation export.")
    value = first[1]
    if isinstance(value, Refusal) or value.get("format") != FORMAT_NAME:
        raise ImportFileError(
            f'This is not a moderation export: its first line should name "format": "{FORMAT_NAME}".'
        )
    version = value.get("version")
    if not isinstance(version, int) or version < 1:
        raise ImportFileError(f"The export's version {version!r} is not a version number.")
    if version > FORMAT_VERSION:
        raise ImportFileError(
            f"The export has version {version}, newer than this service reads "
            f"({FORMAT_VERSION}): upgrade the service first."
        )
    origin = text_field(value.get("origin")) or ""
    return f"{origin}/" if origin else ""


def _check_end(value: dict[str, Any], counted: dict[str, int], number: int) -> None:
    """Refuse a file whose closing counts disagree with its lines."""
    expected = (value.get("threads"), value.get("comments"))
    found = (counted["thread"], counted["comment"])
    if expected != found:
        raise ImportFileError(
            f"The closing line (line {number}) counts {expected[0]} threads and {expected[1]} "
            f"comments, but the file has {found[0]} and {found[1]}: it was altered or damaged."
        )


def _thread(value: dict[str, Any]) -> ThreadRecord | None:
    """A thread line as a record; None without a key."""
    key = (text_field(value.get("key")) or "").strip()
    if not key:
        return None
    return ThreadRecord(
        key=key,
        title=text_field(value.get("title")) or "",
        url=text_field(value.get("url")) or "",
        source_id=key,
        is_open=value.get("open") is not False,
    )


def _build(
    builder: CommentBuilder, value: dict[str, Any], thread: ThreadRecord, prefix: str, number: int
) -> Item:
    """One comment line's record or refusal."""
    own_id = clean(text_field(value.get("id")))
    if not thread.key:
        return Refusal(
            source_id=own_id,
            reason=RefusalReason.NO_THREAD,
            detail=f"line {number}: the comment names no thread",
        )
    kind = _KINDS.get(str(value.get("kind") or "comment"))
    if kind is None:
        return Refusal(
            source_id=own_id,
            reason=RefusalReason.UNSUPPORTED_KIND,
            detail=f"line {number}: kind {value.get('kind')!r} is not comment, pingback or trackback",
            thread_key=thread.key,
        )
    parent = clean(text_field(value.get("parent")))
    return builder.build(
        source_id=f"{prefix}{own_id}" if own_id else None,
        thread=thread,
        parent_source_id=f"{prefix}{parent}" if parent else None,
        author=text_field(value.get("author")),
        email=text_field(value.get("email")),
        website=text_field(value.get("website")),
        ip=text_field(value.get("ip")),
        user_agent=text_field(value.get("user_agent")),
        created=text_field(value.get("created_at")),
        text=text_field(value.get("text")),
        source_status=str(value.get("status") or ""),
        kind=kind,
        text_format=_FORMATS.get(str(value.get("text_format"))),
        held_by_rule=text_field(value.get("held_by_rule")),
        held_reason=text_field(value.get("held_reason")),
    )
