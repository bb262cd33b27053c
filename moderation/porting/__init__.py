"""Moving comments in and out: the file formats of issue 18, in pure Python.

No Flask and no SQLAlchemy here: readers turn files into records, writers turn records into
files, and the service (import, export, people's data) does the database side.

Reading
=======

``read(fmt, source, options) -> Iterator[Item]`` (or ``read_wxr``, ``read_disqus``,
``read_isso``, ``read_remark42``, ``read_jsonl``, ``read_commento``) streams three kinds of
item (:mod:`moderation.porting.records`)::

    ThreadRecord(key, title, url, source_id, is_open)
    CommentRecord(source, source_id, thread, parent_source_id, author, email, website, ip,
                  user_agent, created_at, text, text_format, source_status, status, kind,
                  held_by_rule, held_reason, notes)      # .thread_key/.thread_title/.thread_url
    Refusal(source_id, reason: RefusalReason, detail, thread_key)

with these promises:

* a ``ThreadRecord`` comes before the first comment of its thread (threads without
  comments are not yielded); each comment also carries its thread;
* a comment comes after its parent (``parent_source_id`` names a comment already yielded,
  in the same thread), so the service can insert in order, mapping source ids to its own;
* nothing is dropped silently: every record becomes a ``CommentRecord`` or a ``Refusal``
  whose ``reason`` groups the summary ("refused with why, one line per reason") and whose
  ``detail`` is one readable line; :class:`~moderation.porting.summary.Tally` counts them;
* a ``CommentRecord`` changed on the way carries ``notes`` (a reply kept at the top level
  because its parent is missing, refused or on another page; a local date taken as UTC;
  a deleted placeholder without a date);
* ``created_at`` is aware UTC; ``text`` is at most ``max_text_length`` (65,525) characters,
  raw (HTML, or Markdown for Isso and Commento: see ``text_format``); ``email`` is not
  normalised, ``ip`` not truncated, ``website`` not checked: the service applies its own
  rules (normalise valid emails, keep and flag the others; truncate addresses; sanitise);
* ``(source, source_id)`` identifies a comment for re-runs: re-importing skips what exists.

A file that cannot be read as a whole (not the format, a DTD, bytes that are not UTF-8,
cut short, a record over 32 MiB or a million elements) raises
:class:`~moderation.porting.records.ImportFileError` with a readable message naming the
position and the last record read — possibly after some items were yielded, since reading
streams (replies still waiting for a parent are then not yielded, and the message counts
them). Run with ``--dry-run`` first to know, or commit in batches and re-run after fixing:
already imported comments are skipped.

Options (:class:`~moderation.porting.options.ReadOptions`): ``keying`` (``path`` of the
page's URL, the default; ``url``; ``source_id``: WordPress post id, Disqus identifier),
``status_overrides`` (``parse_status_map("trash=deleted,0=pending,*=pending")``, merged over
the format's map in :mod:`~moderation.porting.statuses`; a status the map lacks is refused
as ``unknown status``, so a re-run with an override brings exactly those in), and
``max_text_length``.

Memory stays bounded: XML is parsed in 64 KiB chunks and every record is freed once read;
JSON lines are read one at a time. What grows: WordPress, Isso and JSONL hold the ids of
the current thread; Disqus, Remark42 and Commento (not grouped by thread) the ids of the
whole file (about 100 bytes per comment) and one record per thread.

Writing
=======

``open_writer(fmt, out, site=, site_title=, site_url=, origin=, include_emails=,
include_addresses=)`` gives a ``JsonlWriter`` or a ``WxrWriter`` (both :class:`ExportWriter`)
with its header written: ``write_thread(thread, comments)`` for each thread (comments with
parents first), and ``close()`` — done by the ``with`` block only when it ends without an
exception, so a broken export is recognisable (JSONL lacks its closing line, WXR is not
well-formed). Emails only with ``include_emails``; IP addresses and user agents only with
``include_addresses``. The service builds ``ThreadRecord`` and ``CommentRecord`` from its
rows: ``source_id`` its own comment id as text, ``parent_source_id`` its parent's,
``source_status`` the status's value. The JSONL schema is in ``docs/export-format.md``;
WXR's mapping (rejected and deleted become ``trash``, with our exact status kept as comment
meta) in :mod:`~moderation.porting.wxr_writer`.

For the service
===============

* Key threads with ``ThreadRecord.key`` (upsert by key: two source pages may share one);
  keep ``title``, ``url`` and ``is_open``.
* Idempotency: store ``(source, source_id)`` per comment, unique per site.
* Parents: map ``parent_source_id`` through the ids of this run (or the stored source ids);
  the stream guarantees the parent came first, in the same thread.
* ``status`` is final (approved, pending, spam, rejected, deleted): imported comments go
  through no rules; ``kind`` says pingback or trackback (skip or mark them: a service
  choice); ``notes`` deserve a place moderators can see (``held_reason``, say).
* ``text_format`` ``markdown`` (Isso, Commento): render or convert; HTML goes through the
  same sanitiser as new comments. Deleted placeholders may have an empty text.
* ``email`` as found (may be invalid or empty; Remark42 has none), ``ip`` raw (truncate),
  ``author`` may be None (anonymous: Isso, Commento guests).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import TextIO

from moderation.porting.commento import read_commento
from moderation.porting.disqus import read_disqus
from moderation.porting.isso import read_isso
from moderation.porting.jsonl import FORMAT_VERSION, JsonlWriter, read_jsonl
from moderation.porting.options import ReadOptions, ThreadKeying
from moderation.porting.records import (
    MAX_TEXT_LENGTH,
    CommentKind,
    CommentRecord,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    Status,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.remark42 import read_remark42
from moderation.porting.sources import Source
from moderation.porting.statuses import StatusMapError, parse_status_map
from moderation.porting.summary import Tally
from moderation.porting.wordpress import read_wxr
from moderation.porting.writing import ExportWriter
from moderation.porting.wxr_writer import WxrWriter

__all__ = [
    "FORMAT_VERSION",
    "MAX_TEXT_LENGTH",
    "CommentKind",
    "CommentRecord",
    "ExportFormat",
    "ExportWriter",
    "ImportFileError",
    "ImportFormat",
    "Item",
    "JsonlWriter",
    "ReadOptions",
    "Refusal",
    "RefusalReason",
    "Status",
    "StatusMapError",
    "Tally",
    "TextFormat",
    "ThreadKeying",
    "ThreadRecord",
    "WxrWriter",
    "open_writer",
    "parse_status_map",
    "read",
    "read_commento",
    "read_disqus",
    "read_isso",
    "read_jsonl",
    "read_remark42",
    "read_wxr",
]


class ImportFormat(StrEnum):
    """What ``moderation import FORMAT`` reads."""

    WXR = "wxr"
    DISQUS = "disqus"
    ISSO = "isso"
    REMARK42 = "remark42"
    JSONL = "jsonl"
    COMMENTO = "commento"


class ExportFormat(StrEnum):
    """What ``moderation export --format`` writes."""

    JSONL = "jsonl"
    WXR = "wxr"


def _read_isso(source: Source, options: ReadOptions | None) -> Iterator[Item]:
    """Isso's reader, which needs a path (SQLite opens files itself)."""
    if not isinstance(source, str | os.PathLike):
        raise ImportFileError("Isso's database is read from a path, not an open file.")
    return read_isso(source, options)


_READERS: dict[ImportFormat, Callable[[Source, ReadOptions | None], Iterator[Item]]] = {
    ImportFormat.WXR: read_wxr,
    ImportFormat.DISQUS: read_disqus,
    ImportFormat.ISSO: _read_isso,
    ImportFormat.REMARK42: read_remark42,
    ImportFormat.JSONL: read_jsonl,
    ImportFormat.COMMENTO: read_commento,
}


def read(
    fmt: ImportFormat | str, source: Source, options: ReadOptions | None = None
) -> Iterator[Item]:
    """The items of ``source`` read as ``fmt`` (a path, or a binary file; Isso: a path)."""
    return _READERS[ImportFormat(fmt)](source, options)


def open_writer(
    fmt: ExportFormat | str,
    out: TextIO,
    *,
    site: str = "",
    site_title: str = "",
    site_url: str = "",
    origin: str = "",
    include_emails: bool = False,
    include_addresses: bool = False,
) -> JsonlWriter | WxrWriter:
    """The writer for ``fmt``, its header already written to ``out``."""
    if ExportFormat(fmt) is ExportFormat.JSONL:
        return JsonlWriter(
            out,
            site=site,
            origin=origin,
            include_emails=include_emails,
            include_addresses=include_addresses,
        )
    return WxrWriter(
        out,
        site_title=site_title or site,
        site_url=site_url,
        include_emails=include_emails,
        include_addresses=include_addresses,
    )
