"""What an import knows of the rows already stored (issue 18): the comments by source id
with their top-level ancestors, the threads by key, and the sources the site held nothing
of when the import began.

Each batch looks up only what it names and the import has not seen yet (its comments, the
parents they name, their threads), a few hundred keys a statement; what was found, and what
the batches stored, is remembered for the batches after (:class:`KnownRows`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from moderation.clock import utcnow
from moderation.extensions import db
from moderation.models import Comment, RemovedImport, Thread
from moderation.porting import CommentRecord, ThreadRecord
from moderation.services.import_fields import stored_id
from moderation.services.import_report import ImportReport

#: Source ids remembered for finding parents; beyond this the database is asked.
_REMEMBERED_IDS = 200_000
#: Keys asked for in one statement.
_LOOKUP_CHUNK = 500


class KnownRows:
    """The threads and comments of one site an import has found or stored, with their ids."""

    def __init__(self, site_id: int, dry_run: bool, report: ImportReport) -> None:
        self.site_id = site_id
        self.dry_run = dry_run
        self.report = report
        self.threads: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        #: The top-level ancestor (``Comment.root_id``, itself for a top-level comment) of
        #: each comment in ``ids``: a reply takes its parent's.
        self.roots: dict[int, int] = {}
        #: Sources with no comment stored in this site when the import began: their
        #: batches need no look-up of present comments (a collision with an import running
        #: at the same time raises IntegrityError, and the batch is stored again, looking).
        self.fresh: dict[str, bool] = {}
        #: Sources with comments removed here for good (:class:`RemovedImport`) when the
        #: import began: only their batches look those up.
        self.removed_sources: dict[str, bool] = {}
        self.fake_ids = 0

    def forget(self) -> None:
        """Forget what a rolled-back batch may have taken with it (another import stored
        some of it meanwhile): every source is looked up from now on."""
        self.threads.clear()
        self.ids.clear()
        self.roots.clear()
        self.fresh = dict.fromkeys(self.fresh, False)

    def new_in(
        self, records: list[CommentRecord], rows: list[dict[str, Any]]
    ) -> list[tuple[CommentRecord, dict[str, Any]]]:
        """The batch's comments not stored yet, with their cleaned rows (the others are
        counted as present; a source id twice in the batch is stored once); the parents
        and the threads they name are then known (the new threads stored)."""
        if len(self.ids) > _REMEMBERED_IDS:
            self.ids.clear()
            self.roots.clear()
        source = records[0].source
        keys = [stored_id(record.source_id) for record in records]
        present = self._stored_ids(source, keys) if not self._is_fresh(source) else {}
        self.ids.update(present)
        removed = self._removed_ids(source, keys) if self._has_removed(source) else set()
        new: list[tuple[CommentRecord, dict[str, Any]]] = []
        left_out = 0
        for record, row, key in zip(records, rows, keys, strict=True):
            if key in removed:
                left_out += 1  # erased or purged here: it stays gone (its replies go on top)
            elif key not in present:
                present[key] = 0  # an id twice in one batch (on two pages): stored once
                new.append((record, row))
        self.report.removed += left_out
        self.report.present += len(records) - len(new) - left_out
        unknown = {
            stored_id(record.parent_source_id)
            for record, _row in new
            if record.parent_source_id is not None
            and stored_id(record.parent_source_id) not in self.ids
        } - set(keys)
        if unknown:
            self.ids.update(self._stored_ids(source, list(unknown)))
        self._resolve_threads([record.thread for record, _row in new])
        return new

    def placed(self, record: CommentRecord) -> tuple[int, int | None, int | None]:
        """Where a new comment goes: its thread's id, its parent's and its top-level
        ancestor's (None for a top-level comment, and for a parent not found)."""
        parent = record.parent_source_id
        parent_id = self.ids.get(stored_id(parent)) if parent is not None else None
        root_id = self.roots.get(parent_id) if parent_id is not None else None
        return self.threads[record.thread.key], parent_id, root_id

    def remember(self, key: str, comment_id: int, root_id: int | None) -> None:
        """A comment just stored: its stored source id, its id, its top-level ancestor's."""
        self.ids[key] = comment_id
        self.roots[comment_id] = root_id or comment_id

    def fake_id(self) -> int:
        """A stand-in id for what a dry run does not store."""
        self.fake_ids -= 1
        return self.fake_ids

    def _is_fresh(self, source: str) -> bool:
        """Whether no comment of ``source`` was stored in this site when the import began."""
        fresh = self.fresh.get(source)
        if fresh is None:
            fresh = self.fresh[source] = not self._has_rows(Comment, source)
        return fresh

    def _has_removed(self, source: str) -> bool:
        """Whether comments of ``source`` had been removed here for good when the import
        began (an erasure during the import is not looked for)."""
        found = self.removed_sources.get(source)
        if found is None:
            found = self.removed_sources[source] = self._has_rows(RemovedImport, source)
        return found

    def _has_rows(self, model: type[Comment] | type[RemovedImport], source: str) -> bool:
        """Whether ``model``'s table holds a row of ``source`` in this site."""
        query = select(model.site_id).where(
            model.site_id == self.site_id, model.source == source[:20]
        )
        return db.session.execute(query.limit(1)).first() is not None

    def _removed_ids(self, source: str, keys: list[str]) -> set[str]:
        """Which of ``keys`` were imported before and removed here for good since."""
        found: set[str] = set()
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            found.update(
                db.session.execute(
                    select(RemovedImport.source_id).where(
                        RemovedImport.site_id == self.site_id,
                        RemovedImport.source == source[:20],
                        RemovedImport.source_id.in_(keys[start : start + _LOOKUP_CHUNK]),
                    )
                ).scalars()
            )
        return found

    def _stored_ids(self, source: str, keys: list[str]) -> dict[str, int]:
        """Which of ``keys`` are stored for this site and source, with their ids."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            rows = db.session.execute(
                select(Comment.source_id, Comment.id, Comment.root_id).where(
                    Comment.site_id == self.site_id,
                    Comment.source == source[:20],
                    Comment.source_id.in_(keys[start : start + _LOOKUP_CHUNK]),
                )
            )
            for row in rows:
                found[str(row[0])] = int(row[1])
                self.roots[int(row[1])] = int(row[2] or row[1])
        return found

    def _resolve_threads(self, threads: list[ThreadRecord]) -> None:
        """Find the batch's threads not seen yet: one look-up for those stored (their
        missing title and URL filled in), one insert for the new ones."""
        wanted = {thread.key: thread for thread in threads if thread.key not in self.threads}
        if not wanted:
            return
        keys = list(wanted)
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            rows = db.session.execute(
                select(Thread.id, Thread.key, Thread.title, Thread.url).where(
                    Thread.site_id == self.site_id,
                    Thread.key.in_(keys[start : start + _LOOKUP_CHUNK]),
                )
            )
            for row in rows:
                thread = wanted.pop(row.key)
                if not self.dry_run and (not row.title or not row.url):
                    db.session.execute(
                        update(Thread)
                        .where(Thread.id == row.id)
                        .values(
                            title=row.title or thread.title[:300],
                            url=row.url or thread.url[:2000],
                        )
                    )
                self.threads[row.key] = int(row.id)
        if not wanted:
            return
        self.report.threads_created += len(wanted)
        if self.dry_run:
            self.threads.update({key: self.fake_id() for key in wanted})
            return
        created = utcnow()
        returned = db.session.connection().execute(
            _INSERT_THREAD,
            [
                {
                    "site_id": self.site_id,
                    "key": thread.key[:255],
                    "title": thread.title[:300],
                    "url": thread.url[:2000],
                    "is_open": thread.is_open,
                    "version": 0,
                    "approved_count": 0,
                    "created_at": created,
                }
                for thread in wanted.values()
            ],
        )
        self.threads.update({str(key): int(thread_id) for key, thread_id in returned})


_INSERT_THREAD = insert(Thread).returning(Thread.key, Thread.id)
