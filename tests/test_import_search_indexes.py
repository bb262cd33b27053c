"""PostgreSQL's trigram search indexes set aside during a large import and built again after
it, even when the import is killed half way (the next import or ``moderation doctor``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text

from moderation.extensions import db
from moderation.models import Comment
from moderation.models.search import TRIGRAM_INDEXES
from moderation.porting import JsonlWriter
from moderation.services.import_indexes import (
    MIN_COMMENTS,
    SHARE,
    missing_search_indexes,
    pays,
    restore_search_indexes,
    search_indexes_set_aside,
)
from moderation.services.importing import import_comments
from moderation.services.queue import QueueFilter, count_matching
from tests.databases import uses_server_database
from tests.helpers import Actions, seed_comments
from tests.porting_support import synthetic_threads

pytestmark = pytest.mark.skipif(not uses_server_database(), reason="PostgreSQL's indexes")

#: A word only the imported comments hold.
WORD = "siphonbrewer"


@pytest.fixture
def site(app: Flask, actions: Actions) -> Iterator[str]:
    """The ``blog`` site; the search indexes in place again after the test, whatever it did."""
    actions.create_site("blog")
    yield "blog"
    with app.app_context():
        db.session.rollback()
        with db.engine.connect() as connection:
            restore_search_indexes(connection.execution_options(isolation_level="AUTOCOMMIT"))


def export_lines(threads: int, per_thread: int) -> list[bytes]:
    """A JSON-lines export of synthetic threads whose comments all hold :data:`WORD`."""
    from io import StringIO

    out = StringIO()
    with JsonlWriter(out, site="old") as writer:
        for thread, comments in synthetic_threads(threads, per_thread, text=f"About a {WORD}"):
            writer.write_thread(thread, comments)
    return [line.encode() + b"\n" for line in out.getvalue().splitlines()]


def missing(app: Flask) -> tuple[str, ...]:
    with app.app_context(), db.engine.connect() as connection:
        return missing_search_indexes(connection)


def found(app: Flask) -> tuple[int, int]:
    """How many comments the queue's search finds by :data:`WORD`, and how many are stored."""
    with app.app_context():
        try:
            every = QueueFilter(status=None, search=WORD)
            stored = db.session.scalar(select(func.count()).select_from(Comment)) or 0
            return count_matching(every), stored
        finally:
            db.session.rollback()


def test_a_large_import_sets_the_indexes_aside_and_builds_them_after_search_right_meanwhile(
    app: Flask, site: str, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(export_lines(10, 30)))
    seen_meanwhile: list[tuple[tuple[str, ...], tuple[int, int]]] = []

    def rebuilding(done: int, total: int) -> None:
        if done == 0:  # the comments stored, the indexes not built yet
            seen_meanwhile.append((missing(app), found(app)))

    with app.app_context():
        report = import_comments(
            "jsonl",
            path,
            site,
            set_aside_search=True,
            rebuilding=rebuilding,
            learn=False,
        )
        lines = report.lines()
    assert report.search_set_aside == TRIGRAM_INDEXES
    assert seen_meanwhile == [(TRIGRAM_INDEXES, (report.imported, report.imported))]
    assert missing(app) == ()
    assert found(app) == (report.imported, report.imported)
    assert any(
        line.startswith("Search index: set aside while the comments were stored, built again in")
        for line in lines
    ), lines


def test_setting_aside_pays_for_a_large_import_that_brings_most_of_the_comments(
    app: Flask, site: str
) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert pays(connection, MIN_COMMENTS)
        assert not pays(connection, MIN_COMMENTS - 1)
    seed_comments(app, 1)
    stored = MIN_COMMENTS // SHARE + 1
    with app.app_context(), db.engine.begin() as connection:
        columns = ", ".join(
            connection.execute(
                text(
                    "SELECT quote_ident(column_name) FROM information_schema.columns "
                    "WHERE table_name = 'comments' AND column_name <> 'id'"
                )
            ).scalars()
        )
        connection.execute(
            text(
                f"INSERT INTO comments ({columns}) SELECT {columns} "  # noqa: S608 - the table's
                "FROM comments, generate_series(2, :copies)"
            ),
            {"copies": stored},
        )
        assert not pays(connection, MIN_COMMENTS)  # a fifth of it is there already
        assert pays(connection, stored * SHARE)


@pytest.mark.parametrize("restorer", ["import", "doctor"])
def test_a_killed_import_leaves_the_indexes_missing_until_the_next_import_or_the_doctor(
    app: Flask,
    runner: FlaskCliRunner,
    site: str,
    database_url: str,
    instance_path: Path,
    tmp_path: Path,
    restorer: str,
) -> None:
    lines = export_lines(20, 100)
    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(b"".join(lines))
    fifo = tmp_path / "export.jsonl"
    os.mkfifo(fifo)
    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_INSTANCE_PATH": str(instance_path),
        "MODERATION_SECRET_KEY": "test-secret-key-not-for-production",
    }
    script = (
        "import sys\n"
        "from moderation import create_app\n"
        "from moderation.services.importing import import_comments\n"
        "with create_app().app_context():\n"
        "    import_comments('jsonl', sys.argv[1], 'blog', set_aside_search=True,\n"
        "                    batch_size=100, learn=False)\n"
    )
    importer = subprocess.Popen([sys.executable, "-c", script, str(fifo)], env=env)
    try:
        with fifo.open("wb") as pipe:  # the importer reads as the lines come, then waits
            pipe.write(b"".join(lines[: len(lines) // 2]))
            pipe.flush()
            deadline = time.monotonic() + 60
            while not (missing(app) == TRIGRAM_INDEXES and found(app)[1] >= 500):
                assert importer.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
            importer.send_signal(signal.SIGKILL)
            importer.wait(timeout=30)
    finally:
        if importer.poll() is None:
            importer.kill()
    assert missing(app) == TRIGRAM_INDEXES
    matched, stored = found(app)
    assert matched == stored >= 500  # no index: the search reads the table, and is right

    if restorer == "import":
        result = runner.invoke(args=["import", "jsonl", str(whole), "--site", "blog"])
        assert result.exit_code == 0, result.output
        assert "Search index: found missing (an import interrupted before), built again in" in (
            result.output
        )
    else:
        result = runner.invoke(args=["doctor"])
        doctor_line = next(line for line in result.output.splitlines() if "search_index" in line)
        assert doctor_line.startswith("WARN") and "built again in" in doctor_line, result.output
        assert runner.invoke(args=["doctor"]).output.count("trigram indexes in place") == 1
    assert missing(app) == ()
    matched, now_stored = found(app)
    assert matched == now_stored >= stored


def test_an_import_whose_indexes_cannot_be_built_keeps_its_comments_and_says_so(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(export_lines(2, 10)))
    with app.app_context():
        db.session.execute(text("DROP EXTENSION pg_trgm CASCADE"))  # takes the indexes along
        db.session.commit()
    try:
        result = runner.invoke(args=["import", "jsonl", str(path), "--site", "blog"])
        assert result.exit_code == 0, result.output
        assert "Search index: NOT built again (ProgrammingError: " in result.output
        assert found(app)[0] == found(app)[1] > 0
    finally:
        with app.app_context():
            db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            db.session.commit()
    doctor = runner.invoke(args=["doctor"]).output
    assert "search_index" in doctor and "built again in" in doctor, doctor
    assert missing(app) == ()


def test_the_doctor_leaves_indexes_set_aside_by_a_running_import_to_it(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    with app.app_context(), search_indexes_set_aside(tmp_path, set_aside=True) as set_aside:
        assert set_aside.indexes == TRIGRAM_INDEXES
        doctor = runner.invoke(args=["doctor"]).output
        assert "set aside by an import in progress: built again at its end" in doctor, doctor
        assert missing(app) == TRIGRAM_INDEXES
    assert set_aside.rebuild is not None and set_aside.rebuild.indexes == TRIGRAM_INDEXES
    assert missing(app) == ()
