"""SQLite's search index during an import: filled once per batch, not by a trigger per
row (:class:`BatchSearchIndex`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text as sql

from moderation.extensions import db
from moderation.models.search import SEARCH_TABLE, SQLITE_TRIGGERS

#: SQLite's search index is filled by a trigger per inserted comment; an import fills it
#: per batch instead (the same rows, 4 to 5 times less CPU: FTS5 tokenises a batch at once).
_SQLITE_INSERT_TRIGGER = f"{SEARCH_TABLE}_ai"
#: FTS5's default ``automerge``: it merges its index's segments four at a time as they come.
_AUTOMERGE = 4
#: While a batch is indexed, sixteen at a time: each comment's entries are rewritten by
#: fewer merges (a third less CPU per imported comment); later writes, at four, merge the
#: rest little by little.
_IMPORT_AUTOMERGE = 16
assert f"TRIGGER {_SQLITE_INSERT_TRIGGER} AFTER INSERT" in SQLITE_TRIGGERS[0]


class BatchSearchIndex:
    """SQLite's trigram search index, filled once per batch during an import.

    Inside the batch's transaction the per-row insert trigger is dropped, the batch is
    inserted, the index is filled from the new rows in one statement (merging segments
    sixteen at a time), and the trigger and the merge setting are put back: SQLite's DDL
    and FTS5's settings are transactional, so no other connection ever sees the trigger
    missing or the setting changed, and an interrupted batch rolls back all of it.
    PostgreSQL's trigram indexes are ordinary indexes: nothing to do there.
    """

    def __init__(self) -> None:
        self._active = False

    @classmethod
    def of_session(cls) -> BatchSearchIndex | None:
        """The index of the session's database, when it is SQLite with the trigger."""
        if db.session.get_bind().dialect.name != "sqlite":
            return None
        found = db.session.execute(
            sql("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
            {"name": _SQLITE_INSERT_TRIGGER},
        ).first()
        return cls() if found is not None else None

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """The trigger is gone inside the block and back at its end (same transaction)."""
        db.session.execute(sql(f"DROP TRIGGER {_SQLITE_INSERT_TRIGGER}"))
        automerge = db.session.execute(
            sql(f"SELECT v FROM {SEARCH_TABLE}_config WHERE k = 'automerge'")  # noqa: S608
        ).scalar()
        self._automerge(_IMPORT_AUTOMERGE)
        self._active = True
        try:
            yield
        finally:
            self._active = False
        self._automerge(_AUTOMERGE if automerge is None else int(automerge))
        db.session.execute(sql(SQLITE_TRIGGERS[0]))

    @staticmethod
    def _automerge(segments: int) -> None:
        """Set how many segments FTS5 merges at a time (kept in the index's own table)."""
        db.session.execute(
            sql(
                f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rank) "  # noqa: S608
                "VALUES ('automerge', :segments)"
            ),
            {"segments": segments},
        )

    def add(self, ids: list[int]) -> None:
        """Index the comments ``ids`` (inserted while the trigger was gone)."""
        assert self._active
        if ids and ids == list(range(ids[0], ids[0] + len(ids))):
            # a batch's ids follow each other (see import_writer.BatchWriter._new_ids): one range
            db.session.execute(
                sql(
                    f"INSERT INTO {SEARCH_TABLE}(rowid, text, author, email) "  # noqa: S608
                    "SELECT id, text, author, email FROM comments WHERE id BETWEEN :low AND :high"
                ),
                {"low": ids[0], "high": ids[-1]},
            )
            return
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            db.session.execute(
                sql(
                    f"INSERT INTO {SEARCH_TABLE}(rowid, text, author, email) "  # noqa: S608
                    "SELECT id, text, author, email FROM comments WHERE id IN "
                    f"({', '.join(str(int(i)) for i in chunk)})"
                )
            )
