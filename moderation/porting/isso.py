"""Isso's SQLite database: the reader (read-only; the file may belong to a running Isso).

``threads(id, uri, title)`` and ``comments(tid, id, parent, created, modified, mode,
remote_addr, text, author, email, website, likes, dislikes, voters, notification)``.
``created`` is a Unix time (float), ``mode`` 1 accepted, 2 pending, 4 deleted (a deleted
comment with replies keeps its row, its text and author emptied), ``text`` is the Markdown
the person typed (``text_format`` is ``markdown``), ``remote_addr`` is already anonymised
by Isso (``/24``, ``/48``). Isso nests replies one level deep. ``uri`` is a path, so the
thread's URL is that path too. Rows are read thread by thread, in id order.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from moderation.porting.building import CommentBuilder
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
from moderation.porting.statuses import ISSO_STATUSES

SOURCE_NAME = "isso"
_QUERY = """
    SELECT threads.id, threads.uri, threads.title, comments.id, comments.parent,
           comments.created, comments.mode, comments.remote_addr, comments.text,
           comments.author, comments.email, comments.website
    FROM comments LEFT JOIN threads ON threads.id = comments.tid
    ORDER BY comments.tid, comments.id
"""
_REQUIRED = {
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "mode", "text", "author", "email"},
}


def read_isso(path: str | os.PathLike[str], options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from an Isso database, parents before replies."""
    return order_replies(_read(Path(path), options or ReadOptions()), grouped=True)


def _read(path: Path, options: ReadOptions) -> Iterator[Item]:
    """The database's items, thread by thread, in id order."""
    builder = CommentBuilder(SOURCE_NAME, options, ISSO_STATUSES, TextFormat.MARKDOWN)
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file.")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    # Bytes, decoded here: one row that is not UTF-8 is refused, not the whole database.
    connection.text_factory = bytes
    try:
        _check_schema(connection, path)
        thread: ThreadRecord | None = None
        current_tid: object = None
        try:
            rows = connection.execute(_QUERY)
            for raw in rows:
                try:
                    row = [_text(value) for value in raw]
                except UnicodeDecodeError as error:
                    yield Refusal(
                        source_id=str(raw[3]),
                        reason=RefusalReason.UNREADABLE_RECORD,
                        detail=f"a field is not UTF-8 (byte {error.start}: {error.reason})",
                    )
                    continue
                tid, uri, title, comment_id, parent, _, mode, addr, text, author, email, site = row
                created = raw[5]
                if tid != current_tid or thread is None:
                    current_tid = tid
                    thread = _thread(tid, uri, title, options.keying)
                    if thread is not None:
                        yield thread
                if thread is None:
                    yield Refusal(
                        source_id=comment_id,
                        reason=RefusalReason.NO_THREAD,
                        detail=f"its thread {tid} is missing or has no uri",
                    )
                    continue
                yield builder.build(
                    source_id=comment_id,
                    thread=thread,
                    parent_source_id=parent,
                    author=author,
                    email=email,
                    website=site,
                    ip=addr,
                    user_agent=None,
                    created=created if isinstance(created, int | float) else _text(created),
                    text=text,
                    source_status=mode or "",
                )
        except sqlite3.DatabaseError as error:
            raise ImportFileError(f"Cannot read the Isso database {path}: {error}.") from None
    finally:
        connection.close()


def _check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not an SQLite database with Isso's tables."""
    try:
        for table, needed in _REQUIRED.items():
            columns = {_text(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")}
            missing = needed - columns
            if missing:
                raise ImportFileError(
                    f"{path} is not an Isso database: table {table!r} "
                    + ("is missing." if not columns else f"lacks {', '.join(sorted(missing))}.")
                )
    except sqlite3.DatabaseError as error:
        raise ImportFileError(f"{path} is not an SQLite database ({error}).") from None


def _thread(
    tid: str | None, uri: str | None, title: str | None, keying: ThreadKeying
) -> ThreadRecord | None:
    """Isso's thread as a record (its ``uri`` is the page's path)."""
    key = choose_key(keying, uri or "", tid or "")
    if not key or not uri or len(key) > MAX_THREAD_KEY_LENGTH:
        return None
    return ThreadRecord(
        key=key, title=" ".join((title or "").split()), url=uri, source_id=tid or ""
    )


def _text(value: object) -> str | None:
    """A column's value as text (Isso's ids and modes are integers); None stays None.

    Raises UnicodeDecodeError for text that is not UTF-8."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)
