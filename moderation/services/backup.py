"""A consistent copy of the database while the service runs.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by
page; writers are not stopped, and the copy is a consistent snapshot (WAL content
included). PostgreSQL has its own tool for this (``pg_dump``); this module says so rather
than pretend.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from moderation.extensions import db


class BackupRefused(Exception):
    """A backup this service cannot make; the message says what to do instead."""


def backup_database(target: Path) -> int:
    """Copy the SQLite database to ``target`` (created with owner-only permissions); the
    number of pages copied."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(
            f"the database is {url.get_backend_name()}: back it up with its own tool, e.g. "
            f"pg_dump --format=custom --file=moderation.dump {url.database or 'DATABASE'} "
            "(restore with pg_restore --clean --dbname=...)"
        )
    source_path = url.database or ""
    if not source_path or source_path == ":memory:":
        raise BackupRefused("the database is in memory: there is nothing to back up")
    target = target.resolve()
    if target == Path(source_path).resolve():
        raise BackupRefused("the backup cannot overwrite the database itself")
    if target.exists():
        raise BackupRefused(f"{target} exists: choose a new file name")
    if not target.parent.is_dir():
        raise BackupRefused(f"{target.parent} is not a folder")
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=1024)
        pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()
        source.close()
    return pages
