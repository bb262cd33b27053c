"""Helpers for the porting tests: fixture paths, an Isso database, items sorted by kind."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from moderation.porting import (
    CommentKind,
    CommentRecord,
    Item,
    Refusal,
    Status,
    TextFormat,
    ThreadRecord,
)

FIXTURES = Path(__file__).parent / "porting_fixtures"


@dataclass
class Collected:
    """What a reader yielded, sorted by kind, in order."""

    threads: list[ThreadRecord] = field(default_factory=list)
    comments: dict[str, CommentRecord] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def refused(self) -> dict[str | None, str]:
        """Refused source ids to their reason's value."""
        return {refusal.source_id: refusal.reason.value for refusal in self.refusals}

    def statuses(self) -> dict[str, str]:
        """Source id to status value."""
        return {key: comment.status.value for key, comment in self.comments.items()}

    def parents(self) -> dict[str, str | None]:
        """Source id to parent source id."""
        return {key: comment.parent_source_id for key, comment in self.comments.items()}


def collect(items: Iterable[Item]) -> Collected:
    """Sort ``items`` and check the stream's promises on the way: each thread before its
    comments, each parent before its replies, in the same thread."""
    result = Collected()
    announced: set[str] = set()
    for item in items:
        if isinstance(item, ThreadRecord):
            result.threads.append(item)
            announced.add(item.key)
        elif isinstance(item, CommentRecord):
            assert item.thread.key in announced, f"{item.source_id} before its thread"
            assert item.created_at.tzinfo is UTC, item.created_at
            if item.parent_source_id is not None:
                parent = result.comments.get(item.parent_source_id)
                assert parent is not None, f"{item.source_id} before its parent"
                assert parent.thread.key == item.thread.key
            result.comments[item.source_id] = item
            result.order.append(item.source_id)
        else:
            result.refusals.append(item)
    return result


def make_isso_database(path: Path, script: str | None = None) -> Path:
    """An Isso database at ``path`` from ``isso.sql`` (or ``script``)."""
    connection = sqlite3.connect(path)
    try:
        connection.executescript(script or (FIXTURES / "isso.sql").read_text(encoding="utf-8"))
        connection.commit()
    finally:
        connection.close()
    return path


def synthetic_threads(
    threads: int, per_thread: int, *, text: str = "A comment with <b>HTML</b> and ünïcode ☕"
) -> Iterator[tuple[ThreadRecord, list[CommentRecord]]]:
    """Threads of comments with replies, every status and kind, for writers and benchmarks."""
    statuses = list(Status)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    next_id = 0
    for number in range(threads):
        thread = ThreadRecord(
            key=f"/posts/{number}/",
            title=f"Post {number}",
            url=f"https://blog.example.com/posts/{number}/",
            source_id=str(number + 1),
            is_open=number % 7 != 0,
        )
        comments = []
        for position in range(per_thread):
            next_id += 1
            parent = str(next_id - 1) if position % 3 else None
            comments.append(
                CommentRecord(
                    source="synthetic",
                    source_id=str(next_id),
                    thread=thread,
                    parent_source_id=parent,
                    author=f"Person {next_id}",
                    email=f"person{next_id}@example.org",
                    website=f"https://person{next_id}.example.org/" if position % 2 else None,
                    ip=f"192.0.2.{next_id % 250}",
                    user_agent="Mozilla/5.0",
                    created_at=start + timedelta(seconds=next_id),
                    text=f"{text} #{next_id}",
                    text_format=TextFormat.HTML,
                    source_status=statuses[next_id % 5].value,
                    status=statuses[next_id % 5],
                    kind=CommentKind.PINGBACK if next_id % 50 == 0 else CommentKind.COMMENT,
                )
            )
        yield thread, comments
