"""Importing comments from other systems (issue 18): a reader's records into the database.

The readers of :mod:`moderation.porting` stream threads, comments (parents first) and
refusals; :func:`import_comments` stores them in batches, one commit per batch, so that an
interrupted import keeps what it stored and a re-run completes it: every comment keeps its
``source`` and ``source_id`` (unique per site), and comments already present are skipped.

Imported comments go through no rules (their status comes from the status map) and, unless
asked, emit no outbound events; their text goes through the same sanitiser as new comments,
their addresses are truncated and their emails normalised (kept as found and flagged when
not valid). Pingbacks and trackbacks are not comments: they are skipped and counted.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from moderation.clock import utcnow
from moderation.domain.comments import (
    MAX_AUTHOR,
    strip_controls,
)
from moderation.domain.rendering import render_markdown
from moderation.domain.spam import Label, label_for_status
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, Thread
from moderation.porting import (
    CommentKind,
    CommentRecord,
    ImportFileError,
    ImportFormat,
    ReadOptions,
    Status,
    TextFormat,
    ThreadRecord,
    read,
)
from moderation.porting.sources import Source
from moderation.services import events, spam
from moderation.services.bulk_rows import insert_rows
from moderation.services.events import SYSTEM, Actor
from moderation.services.import_fields import (
    imported_email,
    imported_html,
    imported_line,
    imported_website,
    truncated_address,
)
from moderation.services.import_learning import FeatureWorker, Lessons, amended
from moderation.services.import_report import ImportReport
from moderation.services.import_search import BatchSearchIndex
from moderation.services.sites import site_info

#: Comments stored per transaction: large enough for speed, small enough that an
#: interrupted import loses little and a running service is never blocked long.
BATCH_SIZE = 1000
#: Source ids remembered for finding parents; beyond this the database is asked.
_REMEMBERED_IDS = 200_000
#: Allocations between two passes of the cycle collector during an import (default 700).
_IMPORT_GC_THRESHOLD = 50_000
#: The rule name imported comments carry (their decision was made elsewhere).
IMPORTED_RULE = "imported"
ANONYMOUS = "Anonymous"


def import_comments(
    fmt: ImportFormat | str,
    source: Source,
    site_slug: str,
    *,
    options: ReadOptions | None = None,
    dry_run: bool = False,
    emit_events: bool = False,
    actor: Actor = SYSTEM,
    batch_size: int = BATCH_SIZE,
    learn: bool = True,
    parallel: bool | None = None,
) -> ImportReport:
    """Import ``source`` (a path or a binary file) read as ``fmt`` into ``site_slug``.

    A file that turns out unreadable part way keeps what was stored before that point
    (re-running the repaired file completes it) and the report says why it stopped.
    ``dry_run`` reads and checks everything and writes nothing. ``learn`` teaches the spam
    classifier the imported statuses (approved: ham, spam: spam). ``parallel``: whether
    the features the classifier learns are worked out in a helper process while the
    import goes on (None: when the file holds more than one batch).
    """
    site = site_info(site_slug)
    importer = _Importer(site.id, site.slug, dry_run, emit_events, batch_size, learn)
    importer.parallel = parallel
    report = importer.report
    try:
        with _bulk_collection():
            try:
                importer.run(read(fmt, source, options))
            except ImportFileError as error:
                report.error = str(error)
            importer.flush()
    finally:
        importer.close()
    if not dry_run:
        events.audit(
            actor,
            "imported",
            site_id=site.id,
            reason=(
                f"{fmt}: {report.imported} imported, {report.present} already present, "
                f"{sum(report.read.refusals.values())} refused"
                + (f"; stopped: {report.error}" if report.error else "")
            ),
        )
        db.session.commit()
    return report


@contextmanager
def _bulk_collection() -> Iterator[None]:
    """Python's cycle collector run less often while the block runs, as before after.

    An import allocates millions of short-lived objects (elements, records, rows) and
    makes almost no reference cycles; at the default threshold the collector ran every
    700 allocations and, in its full passes, walked every object of the application and
    its libraries again (a fifth of the importing process's CPU). Young objects are
    examined every :data:`_IMPORT_GC_THRESHOLD` allocations instead: what cycles there
    are are still collected, in larger batches (full passes follow at the same ratio, so
    they come 70 times less often too).
    """
    thresholds = gc.get_threshold()
    if thresholds[0]:  # 0: collection turned off by the caller, left so
        gc.set_threshold(max(_IMPORT_GC_THRESHOLD, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class _Importer:
    """The state of one import: threads and source ids seen, the batch waiting to be stored."""

    def __init__(
        self,
        site_id: int,
        site_slug: str,
        dry_run: bool,
        emit_events: bool,
        batch_size: int,
        learn: bool = True,
    ) -> None:
        self.site_id = site_id
        self.learn = learn
        self.site_slug = site_slug
        self.dry_run = dry_run
        self.emit_events = emit_events
        self.batch_size = batch_size
        self.report = ImportReport(dry_run=dry_run)
        self.threads: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        #: The top-level ancestor (``Comment.root_id``, itself for a top-level comment) of
        #: each comment in ``ids``: a reply takes its parent's.
        self.roots: dict[int, int] = {}
        #: Sources with no comment stored in this site when the import began: their
        #: batches need no look-up of present comments (a collision with an import running
        #: at the same time raises IntegrityError, and the batch is stored again, looking).
        self.fresh: dict[str, bool] = {}
        self.dialect = db.session.get_bind().dialect.name
        self.sequence = ""
        self.batch: list[CommentRecord] = []
        #: Batches read and cleaned, their lessons being worked out, not stored yet (one
        #: at most waits while the next is read: the helper works meanwhile).
        self.waiting: list[_Prepared] = []
        self.parallel: bool | None = None
        self.worker: FeatureWorker | None = None
        self.fake_ids = 0
        self.now = utcnow()
        self.analyze_at = BATCH_SIZE
        self.search = BatchSearchIndex.of_session() if not dry_run else None

    def run(self, items: Iterable[ThreadRecord | CommentRecord | Any]) -> None:
        """Count every item; batch the comments; store each full batch."""
        for item in items:
            self.report.read.add(item)
            if isinstance(item, CommentRecord):
                self.report.source = item.source
                if item.kind is not CommentKind.COMMENT:
                    self.report.skipped_kinds[item.kind.value] += 1
                    continue
                self.batch.append(item)
                if len(self.batch) >= self.batch_size:
                    self.flush(final=False)

    def flush(self, final: bool = True) -> None:
        """Clean the batch being read and start working out its lessons; store what
        waits (all of it when ``final``; else all but that batch), one transaction each."""
        if self.batch:
            batch, self.batch = self.batch, []
            self.waiting.append(self._prepare(batch))
        while self.waiting and (final or len(self.waiting) > 1):
            prepared = self.waiting.pop(0)
            try:
                self._flush(prepared)
            except IntegrityError:
                if self.dry_run:
                    raise
                # another import stored some of these (or their thread) meanwhile: what
                # this batch wrote is gone, and what was remembered may be; start it again
                db.session.rollback()
                self.threads.clear()
                self.ids.clear()
                self.roots.clear()
                self.fresh = dict.fromkeys(self.fresh, False)
                self._flush(prepared)

    def close(self) -> None:
        """Stop the helper process, if one was started."""
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def _prepare(self, batch: list[CommentRecord]) -> _Prepared:
        """The batch's rows cleaned (nothing from the database yet), and what it teaches
        the classifier started (in the helper process once the import has several batches)."""
        cleaned = [self._cleaned(record) for record in batch]
        lessons: Future[Lessons] | None = None
        if self.learn and not self.dry_run:
            if self.worker is None and (
                self.parallel
                or (self.parallel is None and self.report.read.comments > self.batch_size)
            ):
                self.worker = FeatureWorker(spam.extractor().key)
            if self.worker is not None:
                lessons = self.worker.submit(
                    self.site_id,
                    [
                        (
                            row["text"],
                            row["author"],
                            row["email"],
                            row["url"],
                            record.parent_source_id is not None,
                            row["ip_truncated"],
                            label.value,
                        )
                        for record, row in zip(batch, cleaned, strict=True)
                        if (label := _LABELS[row["status"]]) is not None
                    ],
                )
        return _Prepared(batch, cleaned, lessons)

    def _flush(self, prepared: _Prepared) -> None:
        """Store a batch: skip what is present, insert the rest, commit."""
        batch = prepared.records
        self._begin()
        if len(self.ids) > _REMEMBERED_IDS:
            self.ids.clear()
            self.roots.clear()
        source = batch[0].source
        keys = [_stored_id(record.source_id) for record in batch]
        present = self._stored_ids(source, keys) if not self._is_fresh(source) else {}
        self.ids.update(present)
        new: list[tuple[CommentRecord, dict[str, Any]]] = []
        for record, row, key in zip(batch, prepared.rows, keys, strict=True):
            if key not in present:
                present[key] = 0  # an id twice in one batch (on two pages): stored once
                new.append((record, row))
        self.report.present += len(batch) - len(new)
        # the lessons worked out beside are of the whole batch: of use when all of it is new
        lessons = prepared.lessons if len(new) == len(batch) else None
        unknown = {
            _stored_id(record.parent_source_id)
            for record, _row in new
            if record.parent_source_id is not None
            and _stored_id(record.parent_source_id) not in self.ids
        } - set(keys)
        if unknown:
            self.ids.update(self._stored_ids(source, list(unknown)))
        self._resolve_threads([record.thread for record, _row in new])
        if new and self.search is None:
            self._store(new, lessons)
        elif new and self.search is not None:
            with self.search.deferred():
                self.search.add(self._store(new, lessons))
        if not self.dry_run:
            db.session.commit()
            self._refresh_statistics()

    def _begin(self) -> None:
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

    def _is_fresh(self, source: str) -> bool:
        """Whether no comment of ``source`` was stored in this site when the import began."""
        fresh = self.fresh.get(source)
        if fresh is None:
            found = db.session.execute(
                select(Comment.id)
                .where(Comment.site_id == self.site_id, Comment.source == source[:20])
                .limit(1)
            ).first()
            fresh = self.fresh[source] = found is None
        return fresh

    def _new_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new comments, taken before they are inserted: replies then
        name their parents in the same insert, and nothing has to be read back.

        SQLite: the ids after the largest (what it would choose itself; the batch holds
        the write lock). PostgreSQL: the next values of the comments' sequence.
        """
        if self.dry_run:
            return [self._fake_id() for _ in range(count)]
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

    def _refresh_statistics(self) -> None:
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

    def _store(
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
            self.ids[row["source_id"]] = new_id
            self.roots[new_id] = row["root_id"] or new_id
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
                    if (label := _LABELS[row["status"]]) is not None
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
            label = _LABELS[row["status"]]
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

    def _cleaned(self, record: CommentRecord) -> dict[str, Any]:
        """A comment's fields cleaned, truncated, sanitised: its row but for the id, the
        thread and the parent (which the database gives)."""
        email, flagged = imported_email(record.email)
        website, website_search_key = imported_website(record.website)
        text = strip_controls(record.text)
        html = render_markdown(text) if record.text_format is TextFormat.MARKDOWN else None
        reason = record.held_reason or f"Imported from {record.source}"
        if record.notes:
            reason = f"{reason} ({'; '.join(record.notes)})"
        return {
            "author": imported_line(record.author or "", MAX_AUTHOR) or ANONYMOUS,
            "email": email,
            "email_flagged": flagged,
            "url": website,
            "website_key": website_search_key,
            "text": text,
            "html": html if html is not None else imported_html(text),
            "status": _STATUSES[record.status],
            "created_at": record.created_at,
            # the import is the last change here: deleted comments get their grace period
            # before purging, rejected ones theirs before retention clears their email
            "updated_at": self.now,
            "ip_truncated": truncated_address(record.ip or ""),
            "user_agent": imported_line(record.user_agent or "", 500),
            "held_by_rule": (record.held_by_rule or IMPORTED_RULE)[:40],
            "held_reason": reason[:500],
            "source": record.source[:20],
            "source_id": _stored_id(record.source_id),
            "moderator_id": None,
        }

    def _values(
        self, record: CommentRecord, cleaned: dict[str, Any], new_id: int
    ) -> dict[str, Any]:
        """The row of comment ``new_id``: its cleaned fields, its thread and parent."""
        self.report.flagged_emails += cleaned["email_flagged"]
        if record.website and not cleaned["url"]:
            self.report.dropped_websites += 1
        parent = record.parent_source_id
        parent_id = self.ids.get(_stored_id(parent)) if parent is not None else None
        return {
            "id": new_id,
            "site_id": self.site_id,
            "thread_id": self._thread_id(record.thread),
            "parent_id": parent_id,
            "root_id": self.roots.get(parent_id) if parent_id is not None else None,
            **cleaned,
        }

    def _thread_id(self, thread: ThreadRecord) -> int:
        """The id of the thread keyed ``thread.key`` (resolved for the batch beforehand)."""
        return self.threads[thread.key]

    def _resolve_threads(self, threads: list[ThreadRecord]) -> None:
        """Find the batch's threads not seen yet: one look-up for those stored (their
        missing title and URL filled in), one insert for the new ones."""
        wanted = {thread.key: thread for thread in threads if thread.key not in self.threads}
        if not wanted:
            return
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            rows = db.session.execute(
                select(Thread.id, Thread.key, Thread.title, Thread.url).where(
                    Thread.site_id == self.site_id, Thread.key.in_(keys[start : start + 500])
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
            self.threads.update({key: self._fake_id() for key in wanted})
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

    def _stored_ids(self, source: str, keys: list[str]) -> dict[str, int]:
        """Which of ``keys`` are stored for this site and source, with their ids."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            rows = db.session.execute(
                select(Comment.source_id, Comment.id, Comment.root_id).where(
                    Comment.site_id == self.site_id,
                    Comment.source == source[:20],
                    Comment.source_id.in_(keys[start : start + 500]),
                )
            )
            for row in rows:
                found[str(row[0])] = int(row[1])
                self.roots[int(row[1])] = int(row[2] or row[1])
        return found

    def _emit(self, comment: Comment, thread_key: str) -> None:
        """The outbound events of a new comment, as if it had just been posted."""
        if comment.status is CommentStatus.APPROVED:
            events.emit(
                ("comment.created", "comment.approved"), comment, self.site_slug, thread_key
            )
        else:
            events.emit("comment.created", comment, self.site_slug, thread_key)

    def _fake_id(self) -> int:
        """A stand-in id for what a dry run does not store."""
        self.fake_ids -= 1
        return self.fake_ids


_COMMENTS = Comment.__table__
#: A record's status as stored (the same values: one look-up instead of two enum calls).
_STATUSES = {status: CommentStatus(status.value) for status in Status}
#: What each stored status teaches the classifier (None: nothing).
_LABELS = {status: label_for_status(status.value) for status in CommentStatus}
_THREAD_BEGAN = (
    update(Thread)
    .where(Thread.id == bindparam("b_id"), Thread.created_at > bindparam("b_began"))
    .values(created_at=bindparam("b_began"))
)


@dataclass
class _Prepared:
    """A batch read and cleaned, waiting to be stored."""

    records: list[CommentRecord]
    rows: list[dict[str, Any]]
    lessons: Future[Lessons] | None


_INSERT_THREAD = insert(Thread).returning(Thread.key, Thread.id)


def _stored_id(source_id: str) -> str:
    """``source_id`` as stored: itself, or a digest when longer than the column."""
    if len(source_id) <= 255:
        return source_id
    return "sha256:" + hashlib.sha256(source_id.encode()).hexdigest()
