"""Importing comments from other systems (issue 18): a reader's records into the database.

The readers of :mod:`moderation.porting` stream threads, comments (parents first) and
refusals; :func:`import_comments` stores them in batches, one commit per batch, so that an
interrupted import keeps what it stored and a re-run completes it: every comment keeps its
``source`` and ``source_id`` (unique per site), and comments already present are skipped,
as are those removed here for good since (erased, or purged once deleted: their source ids
are kept, :mod:`~moderation.services.removed_imports`).

Imported comments go through no rules (their status comes from the status map) and, unless
asked, emit no outbound events; their text goes through the same sanitiser as new comments,
their addresses are truncated and their emails normalised (kept as found and flagged when
not valid). Pingbacks and trackbacks are not comments: they are skipped and counted.

Here the course of an import: reading, batching, the helper process, a batch's retry after
a collision. Its parts: the fields cleaned (:mod:`~moderation.services.import_fields`),
what is already stored (:mod:`~moderation.services.import_known`), the batch written
(:mod:`~moderation.services.import_writer`), what the classifier learns beside
(:mod:`~moderation.services.import_learning`), the report (:mod:`~moderation.services.import_report`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from moderation.clock import utcnow
from moderation.extensions import db
from moderation.porting import (
    CommentKind,
    CommentRecord,
    ImportFileError,
    ImportFormat,
    ReadOptions,
    ThreadRecord,
    read,
)
from moderation.porting.sources import Source
from moderation.services import events, spam
from moderation.services.events import SYSTEM, Actor
from moderation.services.import_fields import cleaned_fields
from moderation.services.import_indexes import RebuildProgress, search_indexes_set_aside
from moderation.services.import_known import KnownRows
from moderation.services.import_learning import FeatureWorker, Lessons
from moderation.services.import_report import ImportReport
from moderation.services.import_writer import LABELS, BatchWriter
from moderation.services.sites import site_info

#: Comments stored per transaction: large enough for speed, small enough that an
#: interrupted import loses little and a running service is never blocked long.
BATCH_SIZE = 1000
#: Allocations between two passes of the cycle collector during an import (default 700).
_IMPORT_GC_THRESHOLD = 50_000


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
    set_aside_search: bool | None = None,
    rebuilding: RebuildProgress | None = None,
) -> ImportReport:
    """Import ``source`` (a path or a binary file) read as ``fmt`` into ``site_slug``.

    A file that turns out unreadable part way keeps what was stored before that point
    (re-running the repaired file completes it) and the report says why it stopped.
    ``dry_run`` reads and checks everything and writes nothing. ``learn`` teaches the spam
    classifier the imported statuses (approved: ham, spam: spam). ``parallel``: whether
    the features the classifier learns are worked out in a helper process while the
    import goes on (None: when the file holds more than one batch). ``set_aside_search``:
    whether PostgreSQL's search indexes are dropped while the comments are stored and
    built after (None: when it pays, :mod:`~moderation.services.import_indexes`; whatever
    it says, an index found missing is built again at the end); ``rebuilding`` is told
    how that build goes.
    """
    site = site_info(site_slug)
    importer = _Importer(site.id, site.slug, dry_run, emit_events, batch_size, learn)
    importer.parallel = parallel
    report = importer.report
    with search_indexes_set_aside(source, set_aside_search, rebuilding, dry_run=dry_run) as search:
        try:
            with _bulk_collection():
                try:
                    importer.run(read(fmt, source, options))
                except ImportFileError as error:
                    report.error = str(error)
                importer.flush()
        finally:
            importer.close()
    report.search_set_aside = search.indexes
    report.search_rebuild = search.rebuild
    if not dry_run:
        events.audit(
            actor,
            "imported",
            site_id=site.id,
            reason=(
                f"{fmt}: {report.imported} imported, {report.present} already present, "
                f"{report.removed} removed here since, "
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
    """The course of one import: the batch being read, the batches waiting to be stored,
    the helper working out what they teach."""

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
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.report = ImportReport(dry_run=dry_run)
        self.known = KnownRows(site_id, dry_run, self.report)
        self.writer = BatchWriter(
            site_id,
            site_slug,
            self.known,
            self.report,
            dry_run=dry_run,
            emit_events=emit_events,
            learn=learn,
        )
        self.batch: list[CommentRecord] = []
        #: Batches read and cleaned, their lessons being worked out, not stored yet (one
        #: at most waits while the next is read: the helper works meanwhile).
        self.waiting: list[_Prepared] = []
        self.parallel: bool | None = None
        self.worker: FeatureWorker | None = None
        self.now = utcnow()

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
                self.known.forget()
                self._flush(prepared)

    def close(self) -> None:
        """Stop the helper process, if one was started."""
        if self.worker is not None:
            self.worker.close()
            self.worker = None

    def _prepare(self, batch: list[CommentRecord]) -> _Prepared:
        """The batch's rows cleaned (nothing from the database yet), and what it teaches
        the classifier started (in the helper process once the import has several batches)."""
        cleaned = [cleaned_fields(record, self.now) for record in batch]
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
                        if (label := LABELS[row["status"]]) is not None
                    ],
                )
        return _Prepared(batch, cleaned, lessons)

    def _flush(self, prepared: _Prepared) -> None:
        """Store a batch: skip what is present, insert the rest, commit."""
        self.writer.begin()
        new = self.known.new_in(prepared.records, prepared.rows)
        if new:
            # the lessons worked out beside are of the whole batch: of use when all of it is new
            whole = len(new) == len(prepared.records)
            self.writer.store(new, prepared.lessons if whole else None)
        if not self.dry_run:
            db.session.commit()
            self.writer.refresh_statistics()


@dataclass
class _Prepared:
    """A batch read and cleaned, waiting to be stored."""

    records: list[CommentRecord]
    rows: list[dict[str, Any]]
    lessons: Future[Lessons] | None
