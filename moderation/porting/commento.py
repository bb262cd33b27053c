"""Commento's (and Commento++'s) JSON export: the reader.

``{"version": 1, "comments": [...], "commenters": [...]}``; a comment has ``commentHex``,
``url`` (the page's path), ``commenterHex`` (``"anonymous"`` for guests), ``markdown``,
``parentHex`` (``"root"`` for none), ``state`` (``approved``, ``unapproved``, ``flagged``),
``creationDate`` and ``deleted``; a commenter has ``commenterHex``, ``email``, ``name``,
``link``. The export is one JSON document whose commenters come after the comments, so it
is read whole: files over :data:`MAX_FILE_BYTES` are refused (Commento exports are small;
use a streaming format for anything big).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from moderation.porting.building import CommentBuilder, clean
from moderation.porting.jsonlines import text_field
from moderation.porting.options import ReadOptions, choose_key
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
from moderation.porting.statuses import COMMENTO_STATUSES

SOURCE_NAME = "commento"
#: The largest export read (it is held in memory whole).
MAX_FILE_BYTES = 128 << 20


def read_commento(source: Source, options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from a Commento export, parents before replies."""
    return order_replies(_read(source, options or ReadOptions()), grouped=False)


def _load(source: Source) -> dict[str, Any]:
    """The export as a dict, or an :class:`ImportFileError` saying why not."""
    with open_source(source) as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            f"The Commento export is larger than {MAX_FILE_BYTES >> 20} MiB; "
            "this reader holds it in memory and refuses it."
        )
    try:
        document = json.loads(data)
    except UnicodeDecodeError as error:
        raise ImportFileError(f"The Commento export is not UTF-8 (byte {error.start:,}).") from None
    except ValueError as error:
        raise ImportFileError(f"The Commento export is not JSON: {error}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("comments"), list):
        raise ImportFileError('This is not a Commento export: it has no "comments" list.')
    return document


def _read(source: Source, options: ReadOptions) -> Iterator[Item]:
    """The export's items in file order (``read_commento`` puts parents first)."""
    builder = CommentBuilder(SOURCE_NAME, options, COMMENTO_STATUSES, TextFormat.MARKDOWN)
    document = _load(source)
    commenters = {
        str(person.get("commenterHex")): person
        for person in document.get("commenters") or ()
        if isinstance(person, dict)
    }
    threads: dict[str, ThreadRecord | None] = {}
    for position, comment in enumerate(document["comments"], start=1):
        if not isinstance(comment, dict):
            yield Refusal(
                source_id=None,
                reason=RefusalReason.UNREADABLE_RECORD,
                detail=f"comment {position} is not a JSON object",
            )
            continue
        path = (text_field(comment.get("url")) or "").strip()
        if path not in threads:
            key = choose_key(options.keying, path, path)
            thread = (
                ThreadRecord(key=key, url=path, source_id=path)
                if key and len(key) <= MAX_THREAD_KEY_LENGTH
                else None
            )
            threads[path] = thread
            if thread is not None:
                yield thread
        thread = threads[path]
        own_id = text_field(comment.get("commentHex"))
        if thread is None:
            yield Refusal(
                source_id=clean(own_id),
                reason=RefusalReason.NO_THREAD,
                detail=f"comment {position} has no usable url",
            )
            continue
        person = commenters.get(str(comment.get("commenterHex")), {})
        parent = text_field(comment.get("parentHex"))
        yield builder.build(
            source_id=own_id,
            thread=thread,
            parent_source_id=None if parent == "root" else parent,
            author=text_field(person.get("name")),
            email=text_field(person.get("email")),
            website=text_field(person.get("link")),
            ip=None,
            user_agent=None,
            created=text_field(comment.get("creationDate")),
            text=text_field(comment.get("markdown")) or text_field(comment.get("html")),
            source_status="deleted"
            if comment.get("deleted") is True
            else str(comment.get("state") or ""),
        )
