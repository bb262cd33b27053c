"""An import's batches written (issue 18): ids taken ahead, the rows in one insert, what
they teach the spam classifier, and the counts, thread dates and events that follow.

:class:`BatchWriter` writes in the transaction of the batch (the import commits it); a
dry run goes through the same steps and writes nothing. Where a comment goes (its thread,
parent and top-level ancestor) comes from :class:`~moderation.services.import_known.KnownRows`,
which it tells of every comment stored.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import text as sql

from moderation.domain.spam import Label, label_for_status
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, Thread
from moderation.porting import CommentRecord
from moderation.services import events, spam
from moderation.services.bulk_rows import insert_rows
from moderation.services.import_known import KnownRows
from moderation.services.import_learning import Lessons, amended
from moderation.services.import_report import ImportReport
from moderation.services.import_search import BatchSearchIndex

#: What each stored status teaches the classifier (None: nothing).
LABELS = {status: label_for_status(status.value) for status in CommentStatus}
#: Comments imported before PostgreSQL's statistics are first refreshed (then 4 times more).
_FIRST_ANALYZE = 1000


class BatchWriter:
    """Writes the new comments of an import's batches, one batch a call."""

    def __init__(
        self,
        site_id: int,
        site_slug: str,
        known: KnownRows,
        report: ImportReport,
        *,
        dry_run: bool,
        emit_events: bool,
        learn: bool,
    ) -> None:
        self.site_id = site_id
        self.site_slug = site_slug
        self.known = known
        self.report = report
        self.dry_run = dry_run
        self.emit_events = emit_events
        self.learn = learn
        self.dialect = db.session.get_bind().dialect.name
        self.sequence = ""
        self.analyze_at = _FIRST_ANALYZE
        self.search = BatchSearchIndex.of_session() if not dry_run else None

    def begin(self) -> None:
        """On SQLite, begin the batch's transaction holding the write lock.

        The driver begins a transaction only at the first INSERT, UPDATE or DELETE: the
        look-ups before it would read outside the batch's transaction, and dropping the
        search trigger would commit at once (other connections would see it missing, and
        an interrupted batch would leave it missing). ``BEGIN IMMEDIATE`` also keeps the
        ids the batch takes (:meth:`_new_ids`) from any other writer until it commits.
        """
        if self.dry_run or self.dialect != "sqlite":
            return
        connection = db.session.connection()
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def store(
        self,
        new: list[tuple[CommentRecord, dict[str, Any]]],
        lessons: Future[Lessons] | None = None,
    ) -> None:
        """Write the batch's new comments (their threads and parents known), SQLite's
        search index filled once for all of them."""
        if self.search is None:
            self._insert(new, lessons)
            return
        with self.search.deferred():
            self.search.add(self._insert(new, lessons))

    def refresh_statistics(self) -> None:
        """On PostgreSQL, ANALYZE the comments as they grow (after 1,000, 4,000, 16,000...).

        A table filled from empty keeps the statistics of an empty one: the planner then
        reads the look-up of present source ids as "every comment of the site, filtered",
        and each batch gets slower than the last.
        """
        if self.report.imported < self.analyze_at:
            return
        self.analyze_at = max(self.analyze_at, self.report.imported) * 4
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sql("ANALYZE comments"))
            db.session.execute(sql("ANALYZE threads"))
            db.session.commit()

    def _new_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new comments, taken before they are inserted: replies then
        name their parents in the same insert, and nothing has to be read back.

        SQLite: the ids after the largest (what it would choose itself; the batch holds
        the write lock). PostgreSQL: the next values of the comments' sequence.
        """
        if self.dry_run:
            return [self.known.fake_id() for _ in range(count)]
        if self.dialect == "sqlite":
            last = db.session.execute(sql("SELECT max(id) FROM comments")).scalar() or 0
            return list(range(last + 1, last + 1 + count))
        if not self.sequence:
            self.sequence = str(
                db.session.execute(sql("SELECT pg_get_serial_sequence('comments', 'id')")).scalar()
            )
        taken = db.session.execute(
            sql("SELECT nextval(:sequence) FROM generate_series(1, :count)"),
            {"sequence": self.sequence, "count": count},
        )
        return [int(value) for value in taken.scalars()]

    def _insert(
        self,
        new: list[tuple[CommentRecord, dict[str, Any]]],
        lessons: Future[Lessons] | None = None,
    ) -> list[int]:
        """Insert the new comments in one statement (parents first, as the reader gives
        them, so every reply names its parent's id) with what they teach; the new ids."""
        statuses: Counter[CommentStatus] = Counter()
        approved: Counter[int] = Counter()
        new_ids = self._new_ids(len(new))
        new_rows: list[tuple[int, dict[str, Any]]] = []
        began: dict[int, datetime] = {}
        records = [record for record, _row in new]
        for (record, cleaned), new_id in zip(new, new_ids, strict=True):
            row = self._values(record, cleaned, new_id)
            new_rows.append((new_id, row))
            self.known.remember(row["source_id"], new_id, row["root_id"])
            statuses[row["status"]] += 1
            thread_id, written = row["thread_id"], row["created_at"]
            began[thread_id] = min(began.get(thread_id, written), written)
            if row["status"] is CommentStatus.APPROVED:
                approved[thread_id] += 1
        if not self.dry_run:
            insert_rows(db.session.connection(), _COMMENTS, [row for _id, row in new_rows])
            if self.emit_events:
                for (_id, row), record in zip(new_rows, records, strict=True):
                    self._emit(Comment(**row), record.thread.key)
        self.report.imported += len(records)
        if self.dry_run:
            if self.learn:
                self.report.taught.update(
                    label.value
                    for _id, row in new_rows
                    if (label := LABELS[row["status"]]) is not None
                )
            return new_ids
        if self.learn:
            # imported statuses are moderators' decisions made elsewhere: the classifier
            # learns from them as from decisions made here (issue 19)
            self.report.taught.update(self._learn(records, new_rows, lessons))
        for status, count in statuses.items():
            events.count_status(self.site_id, status, count)
        for thread_id, count in approved.items():
            events.touch_thread(thread_id, approved_delta=count)
        # a thread began with its earliest comment: closing by age counts from there
        db.session.connection().execute(
            _THREAD_BEGAN,
            [{"b_id": thread_id, "b_began": earliest} for thread_id, earliest in began.items()],
        )
        return new_ids

    def _learn(
        self,
        records: list[CommentRecord],
        new_rows: list[tuple[int, dict[str, Any]]],
        lessons: Future[Lessons] | None,
    ) -> Counter[str]:
        """Teach the classifier the new comments' statuses, with the lessons worked out
        beside when there are some (a reply whose parent was not stored, stored on top,
        has its features worked out again here), else here."""
        learned: Lessons | None = None
        if lessons is not None:
            try:
                learned = lessons.result()
            except Exception:  # the helper is gone: the same work, done here
                learned = None
        if learned is None:
            return spam.learn_imported(self.site_id, new_rows)
        index = 0
        changes: dict[int, tuple[Label, frozenset[str]]] = {}
        for record, (_id, row) in zip(records, new_rows, strict=True):
            label = LABELS[row["status"]]
            if label is None:
                continue
            if (row["parent_id"] is None) != (record.parent_source_id is None):
                features = spam.features_of(
                    row["text"],
                    row["author"],
                    row["email"],
                    row["url"],
                    row["parent_id"] is not None,
                    row["ip_truncated"],
                )
                changes[index] = (label, features)
            index += 1
        learned = amended(learned, changes, self.site_id)
        return spam.learn_imported_lessons(self.site_id, new_rows, learned)

    def _values(
        self, record: CommentRecord, cleaned: dict[str, Any], new_id: int
    ) -> dict[str, Any]:
        """The row of comment ``new_id``: its cleaned fields, its thread and parent."""
        self.report.flagged_emails += cleaned["email_flagged"]
        if record.website and not cleaned["url"]:
            self.report.dropped_websites += 1
        thread_id, parent_id, root_id = self.known.placed(record)
        return {
            "id": new_id,
            "site_id": self.site_id,
            "thread_id": thread_id,
            "parent_id": parent_id,
            "root_id": root_id,
            **cleaned,
        }

    def _emit(self, comment: Comment, thread_key: str) -> None:
        """The outbound events of a new comment, as if it had just been posted."""
        if comment.status is CommentStatus.APPROVED:
            events.emit(
                ("comment.created", "comment.approved"), comment, self.site_slug, thread_key
            )
        else:
            events.emit("comment.created", comment, self.site_slug, thread_key)


_COMMENTS = Comment.__table__
_THREAD_BEGAN = (
    update(Thread)
    .where(Thread.id == bindparam("b_id"), Thread.created_at > bindparam("b_began"))
    .values(created_at=bindparam("b_began"))
)
