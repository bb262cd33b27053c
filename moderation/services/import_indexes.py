"""PostgreSQL's trigram search indexes set aside while a large import stores its comments,
and built again after it (issue 18).

Each imported comment costs the PostgreSQL server about 110-140 µs of CPU in the three GIN
``pg_trgm`` indexes (text, author, email) when they are kept up to date row by row: more
than the rest of the import's server work together (~80 µs). Built once after the import
(``CREATE INDEX CONCURRENTLY``) they cost 90-105 µs per row of the *whole* table, and the
storing itself is no longer held back by them (bench/RESULTS.md, 2026-11-30 02:00).

**When** (:func:`pays`): only when the file is expected to hold at least
:data:`MIN_COMMENTS` comments *and* at least :data:`SHARE` times the comments already
stored (all sites): the rebuild reads every row, so setting aside pays only when the import
brings most of them; a site moving in is the case it serves. The file's comments are
estimated from its size (:data:`BYTES_PER_COMMENT`: a generated WXR's; real exports also
carry their posts, so they hold fewer comments per byte and are over-counted: the cost of
that mistake is bounded by the rule, since the table is small beside the estimate).

**Without blocking the service**: indexes are dropped and built ``CONCURRENTLY``, outside
any transaction, on a connection of their own (writers are never blocked; a drop that cannot
have its lock within :data:`LOCK_TIMEOUT` is given up: the import then keeps that index up
to date as usual). Meanwhile the dashboard's search is still right (``ILIKE`` reads the
table instead of the index: slower, same answers).

**After an interruption**: that connection holds a shared advisory lock while the indexes are
set aside; a killed importer's lock goes with its connection. Whoever next finds an index
missing or invalid (a build stopped half way leaves one) and can take the lock exclusively
(no import has the indexes set aside) builds it again: the end of every import, of any
file, and ``moderation doctor`` (:func:`restore_search_indexes`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from moderation.extensions import db
from moderation.models.search import TRIGRAM_INDEXES, trigram_index_statement
from moderation.porting.sources import Source

#: Fewer comments than this: not worth changing the indexes (the import takes seconds).
MIN_COMMENTS = 20_000
#: The file must hold at least this many times the comments stored already. Kept up to
#: date, the indexes cost ~125 µs an imported comment; built, ~95 µs (10⁵) to ~102 µs (10⁶)
#: per row of the whole table: the break-even is 3.2x (10⁵) to 4.9x (10⁶).
SHARE = 5
#: Bytes of an export per comment (the generated WXR of bench/gen_import_files.py: 1,277).
BYTES_PER_COMMENT = 1_300
#: How long a drop may wait for its lock before the index is kept instead.
LOCK_TIMEOUT = "5s"
#: Memory for each build, unless the server's setting is larger: PostgreSQL's documentation
#: finds GIN builds sensitive to it; 10⁵ comments' fit in the 64 MB default, 10⁶ do not.
BUILD_MEMORY_MB = 256
#: Advisory lock held (shared) by every import that set the indexes aside; taken
#: exclusively to rebuild them. An arbitrary key: the service takes no other.
_SET_ASIDE_LOCK = 0x5EA2C4_1D7

#: Called before each index is built again (how many are done, how many in all).
RebuildProgress = Callable[[int, int], None]


@dataclass
class Rebuild:
    """What :func:`restore_search_indexes` did."""

    #: The indexes built again (missing, or left invalid by a build that stopped).
    indexes: tuple[str, ...] = ()
    seconds: float = 0.0
    #: An import still running has the indexes set aside: it rebuilds them at its end.
    left_to_import: bool = False
    #: Why the build failed ("": it did not).
    error: str = ""


def missing_search_indexes(connection: Connection) -> tuple[str, ...]:
    """The trigram indexes that are absent or not usable (invalid: a concurrent build or
    drop that stopped half way), in their order."""
    usable = set(
        connection.execute(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = 'comments'::regclass AND i.indisvalid AND i.indisready"
            )
        ).scalars()
    )
    return tuple(index for index in TRIGRAM_INDEXES if index not in usable)


def restore_search_indexes(
    connection: Connection, progress: RebuildProgress | None = None
) -> Rebuild:
    """Build again, concurrently, the trigram indexes that are missing or invalid, unless an
    import has them set aside (it rebuilds them at its end). ``connection``: AUTOCOMMIT,
    with no transaction of this process open elsewhere (a concurrent build waits for every
    transaction older than itself: it would wait for that one forever)."""
    if not missing_search_indexes(connection):
        return Rebuild()
    if not _lock(connection, "pg_try_advisory_lock"):
        return Rebuild(left_to_import=True)
    started = time.perf_counter()
    try:
        missing = missing_search_indexes(connection)  # another may have rebuilt them meanwhile
        connection.exec_driver_sql("SET lock_timeout = 0")
        connection.exec_driver_sql("SET statement_timeout = 0")
        connection.execute(
            text(
                "SELECT set_config('maintenance_work_mem', :memory, false) "
                "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) "
                "< pg_size_bytes(:memory)"
            ),
            {"memory": f"{BUILD_MEMORY_MB}MB"},
        )
        for done, index in enumerate(missing):
            if progress is not None:
                progress(done, len(missing))
            # an invalid index of that name would make IF NOT EXISTS do nothing
            connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
            connection.exec_driver_sql(trigram_index_statement(index, concurrently=True))
        if progress is not None and missing:
            progress(len(missing), len(missing))
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SET_ASIDE_LOCK})
    return Rebuild(missing, time.perf_counter() - started)


def expected_comments(source: Source) -> int:
    """How many comments ``source`` holds, estimated from its size (0: size unknown)."""
    try:
        if isinstance(source, (str, os.PathLike)):
            size = os.stat(source).st_size
        else:
            size = os.fstat(source.fileno()).st_size
    except (OSError, AttributeError, ValueError):  # not a file of the system (io.BytesIO...)
        return 0
    return size // BYTES_PER_COMMENT


def pays(connection: Connection, expected: int) -> bool:
    """Whether setting the indexes aside pays for an import of ``expected`` comments: enough
    of them, and :data:`SHARE` times the comments stored (counted up to what decides it)."""
    if expected < MIN_COMMENTS:
        return False
    stored = connection.execute(
        text("SELECT count(*) FROM (SELECT 1 FROM comments LIMIT :enough) AS stored"),
        {"enough": expected // SHARE + 1},
    ).scalar_one()
    return bool(stored * SHARE <= expected)


@contextmanager
def search_indexes_set_aside(
    source: Source,
    set_aside: bool | None,
    progress: RebuildProgress | None = None,
    *,
    dry_run: bool = False,
) -> Iterator[SetAside]:
    """On PostgreSQL, the trigram indexes set aside inside the block when it pays (or when
    ``set_aside`` says so), and every missing one built again at its end, whatever ended it
    (a dry run: nothing done).

    The session's transaction is ended before the indexes are dropped and before they are
    built (committed; rolled back when the block raised): both wait for the transactions
    older than themselves, this process's own too. What was done: the :class:`SetAside`
    yielded.
    """
    state = SetAside()
    if dry_run or db.session.get_bind().dialect.name != "postgresql":
        yield state
        return
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if set_aside or (set_aside is None and pays(connection, expected_comments(source))):
            db.session.commit()
            state.indexes = _set_aside(connection)
        try:
            yield state
        except BaseException:
            db.session.rollback()
            raise
        else:
            db.session.commit()
        finally:
            try:
                if state.indexes:
                    _lock(connection, "pg_advisory_unlock_shared")
                state.rebuild = restore_search_indexes(connection, progress)
                connection.exec_driver_sql("RESET ALL")  # back to the pool as it came
            except SQLAlchemyError as error:
                # the comments are stored: the import does not fail for its search index
                # (pg_trgm gone, say); the report says so, the doctor builds it again
                connection.invalidate()  # closed: the server lets go of its locks
                reason = str(getattr(error, "orig", error)).splitlines()[0]
                state.rebuild = Rebuild(error=f"{error.__class__.__name__}: {reason}")
            except BaseException:
                connection.invalidate()
                raise


@dataclass
class SetAside:
    """What :func:`search_indexes_set_aside` did."""

    #: The indexes dropped while the comments were stored.
    indexes: tuple[str, ...] = ()
    rebuild: Rebuild | None = None


def _set_aside(connection: Connection) -> tuple[str, ...]:
    """Drop the trigram indexes concurrently, holding the shared lock that says so; those
    dropped (none when a rebuild holds the lock: the import keeps them up to date)."""
    if not _lock(connection, "pg_try_advisory_lock_shared"):
        return ()
    connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    dropped = []
    for index in TRIGRAM_INDEXES:
        try:
            connection.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
        except OperationalError:  # its lock not had in time: the index is kept
            continue
        dropped.append(index)
    if not dropped:
        _lock(connection, "pg_advisory_unlock_shared")
    return tuple(dropped)


def _lock(connection: Connection, function: str) -> bool:
    """Call the advisory lock ``function`` on the set-aside key; whether it succeeded."""
    return bool(
        connection.execute(text(f"SELECT {function}(:key)"), {"key": _SET_ASIDE_LOCK}).scalar()
    )
