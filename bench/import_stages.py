"""Where an import's CPU goes, stage by stage (issue 18).

    python bench/gen_import_files.py 100000 --out /tmp/import-files --formats wxr
    python bench/import_stages.py /tmp/import-files/comments.wxr [--batch-size N] [--no-learn]

One import into a new migrated SQLite file (bench/fresh_site.py, removed afterwards), as
``moderation import`` runs it, with the import's own functions wrapped in CPU timers: each
stage's CPU of the importing thread (``time.thread_time``, so the thread reading the
helper's answers is not counted in any stage), exclusive of the stages it calls. What no wrapped function
accounts for is the reading (the reader's parsing and records), the run loop and its
report. Prints µs a comment per stage, the importing process's CPU and the helper's.
Stages missing from the code run (``PYTHONPATH`` naming another version) are left out.
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fresh_site import bench_app, fresh_database, migrate_with_site

#: (module, object, attribute, stage): the functions timed, each a stage.
STAGES = (
    ("importing", "", "cleaned_fields", "cleaning (import_fields.cleaned_fields)"),
    ("importing", "_Importer", "_prepare", "batch prepared (lessons sent to the helper)"),
    ("import_known", "KnownRows", "new_in", "KnownRows.new_in (look-ups, threads)"),
    ("import_known", "KnownRows", "placed", "KnownRows.placed"),
    ("import_writer", "BatchWriter", "_values", "row building (BatchWriter._values)"),
    ("import_writer", "BatchWriter", "_new_ids", "ids taken"),
    ("import_writer", "", "insert_rows", "SQL insert of the comments"),
    ("import_writer", "BatchWriter", "_insert", "batch bookkeeping (BatchWriter._insert)"),
    ("import_writer", "BatchWriter", "_learn", "lessons amended (BatchWriter._learn)"),
    ("spam", "", "learn_imported_lessons", "classifier: comment_spam rows"),
    ("spam", "", "learn_imported", "classifier: learned here (first batch)"),
    ("spam_store", "SqlCountStore", "add", "classifier: counts written"),
    ("spam_store", "SqlCountStore", "add_increments", "classifier: counts written"),
    ("events", "", "count_status", "status counters"),
    ("events", "", "touch_thread", "threads touched"),
    ("import_search", "BatchSearchIndex", "add", "FTS5 index filled"),
    ("import_writer", "BatchWriter", "store", "FTS5 trigger dropped and made again"),
    ("import_writer", "BatchWriter", "begin", "BEGIN IMMEDIATE"),
    ("import_writer", "BatchWriter", "refresh_statistics", "statistics"),
)


class Timers:
    """Exclusive CPU of the importing thread per stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._inner: list[float] = []

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` timed as ``stage`` (minus the stages it calls)."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            self._inner.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                inner = self._inner.pop()
                self.spent[stage] = self.spent.get(stage, 0.0) + spent - inner
                if self._inner:
                    self._inner[-1] += spent

        return timed


def instrument(timers: Timers) -> None:
    """Wrap every stage the code run has."""
    import importlib
    import inspect

    for module_name, owner_name, attribute, stage in STAGES:
        module = importlib.import_module(f"moderation.services.{module_name}")
        owner = getattr(module, owner_name) if owner_name else module
        if attribute not in vars(owner):
            continue
        found = inspect.getattr_static(owner, attribute)
        if isinstance(found, staticmethod):
            setattr(owner, attribute, staticmethod(timers.wrap(stage, found.__func__)))
        else:
            setattr(owner, attribute, timers.wrap(stage, getattr(owner, attribute)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a WXR file gen_import_files.py wrote")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--no-learn", action="store_true", help="the classifier learns nothing")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="import-stages-")
    url = fresh_database("", folder, "bench.db")
    from moderation.extensions import db
    from moderation.services.importing import import_comments

    app = bench_app(url, folder)
    timers = Timers()
    with app.app_context():
        migrate_with_site()
        instrument(timers)
        db.session.commit = timers.wrap("commit", db.session.commit)  # type: ignore[method-assign]
        process, thread = time.process_time(), time.thread_time()
        report = import_comments(
            "wxr", args.file, "bench", batch_size=args.batch_size, learn=not args.no_learn
        )
        thread = time.thread_time() - thread
        process = time.process_time() - process
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(folder)
    count = report.imported
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)
    timers.spent["reading, the run loop, the report (not wrapped)"] = thread - sum(
        timers.spent.values()
    )
    print(
        f"{count:,} comments: importing process {process / count * 1e6:.1f} µs a comment "
        f"(its importing thread {thread / count * 1e6:.1f}), helper "
        f"{(helper.ru_utime + helper.ru_stime) / count * 1e6:.1f}"
    )
    print("| stage | µs CPU a comment |\n|---|---:|")
    for stage, spent in sorted(timers.spent.items(), key=lambda item: -item[1]):
        print(f"| {stage} | {spent / count * 1e6:.1f} |")


if __name__ == "__main__":
    main()
