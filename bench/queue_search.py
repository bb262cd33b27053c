#!/usr/bin/env python3
"""First-page timings of the queue's tabs, searches and filters, relative to the pending
tab, on a fresh database of N comments (through the service layer, as the dashboard asks).

    python bench/queue_search.py                          # SQLite, 10,000 comments (~1 min)
    python bench/queue_search.py --comments 1000000       # 10^6: only when asked (long)
    python bench/queue_search.py --database-url postgresql+psycopg://postgres@127.0.0.1/DB

The PostgreSQL database named is emptied first. Each query runs once to warm up, then
``--runs`` times; the median and the spread (min-max) are printed in milliseconds, with the
median's ratio to the pending tab's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fresh_site import empty_postgres
from sqlalchemy import insert, text

from moderation import create_app
from moderation.domain.rendering import render_comment
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, StatusCount, Thread
from moderation.services import queue, sites

WORDS = [
    "the",
    "release",
    "notes",
    "read",
    "well",
    "and",
    "the",
    "new",
    "layout",
    "helps",
    "a",
    "lot",
    "though",
    "the",
    "search",
    "could",
    "be",
    "faster",
    "on",
    "large",
    "archives",
    "thanks",
    "for",
    "the",
    "update",
    "great",
    "work",
    "packaging",
    "python",
    "rust",
    "databases",
    "indexes",
    "trigram",
    "moderation",
    "community",
    "garden",
    "recipe",
    "weather",
    "travel",
]


def fresh_app(database_url: str, instance: Path) -> Any:
    """A migrated, empty database and the app on it."""
    from flask_migrate import upgrade

    from moderation.extensions import MIGRATIONS_DIRECTORY

    if database_url.startswith("postgresql"):
        empty_postgres(database_url)
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "bench-only"}, instance_path=str(instance)
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
    return app


def seed(count: int) -> None:
    """``count`` comments over 100 threads, a quarter pending, 997 authors."""
    site = sites.create_site("bench", "Bench", ["https://bench.example"])
    threads = []
    for number in range(100):
        thread = Thread(site_id=site.id, key=f"/post/{number}", title="", url="")
        db.session.add(thread)
        threads.append(thread)
    db.session.flush()
    start = datetime.now(UTC) - timedelta(seconds=count)
    pending = 0
    for offset in range(0, count, 10_000):
        rows = []
        for number in range(offset, min(count, offset + 10_000)):
            words = " ".join(WORDS[(number * 7 + k * 13) % len(WORDS)] for k in range(12))
            body = f"{words} #{number}"
            status = CommentStatus.PENDING if number % 4 == 0 else CommentStatus.APPROVED
            pending += status is CommentStatus.PENDING
            moment = start + timedelta(seconds=number)
            rows.append(
                {
                    "site_id": site.id,
                    "thread_id": threads[number % 100].id,
                    "author": f"Author {number % 997}",
                    "email": f"author{number % 997}@example.test",
                    "url": f"https://site{number % 50}.example/page" if number % 3 == 0 else "",
                    "website_key": f"example.site{number % 50}." if number % 3 == 0 else "",
                    "text": body,
                    "html": render_comment(body),
                    "status": status,
                    "created_at": moment,
                    "updated_at": moment,
                    "ip_truncated": f"198.51.{number % 200}.0/24",
                    "held_by_rule": "premoderation" if number % 10 else "too_many_links",
                    "held_reason": "",
                    "source": "seed",
                }
            )
        db.session.execute(insert(Comment), rows)
        db.session.commit()
    for status, total in (
        (CommentStatus.PENDING, pending),
        (CommentStatus.APPROVED, count - pending),
    ):
        db.session.execute(
            StatusCount.__table__.update()
            .where(StatusCount.site_id == site.id, StatusCount.status == status)
            .values(count=total)
        )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # as autovacuum would after a bulk load: GIN pending lists merged, statistics fresh
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE comments"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


CASES: list[tuple[str, dict[str, Any]]] = [
    ("tab pending", {}),
    ("tab approved", {"status": CommentStatus.APPROVED}),
    ("tab all", {"status": None}),
    ("tab spam (empty)", {"status": CommentStatus.SPAM}),
    ("search, all: nothing matches", {"status": None, "search": "zebra crossing"}),
    ("search, all: one email", {"status": None, "search": "author512@example.test"}),
    ("search, all: common word", {"status": None, "search": "release"}),
    ("search, pending: common word", {"search": "release"}),
    ("filter, all: exact email", {"status": None, "email": "author512@example.test"}),
    ("filter, all: website domain", {"status": None, "website": "site7.example"}),
    ("filter, all: IP network", {"status": None, "ip": "198.51.77.9"}),
    ("filter, all: rule", {"status": None, "rule": "too_many_links"}),
    ("filter, all: last hour", {"status": None, "since": "hour"}),
]


def measure(runs: int) -> list[tuple[str, float, float, float, int]]:
    results = []
    for name, criteria in CASES:
        if criteria.get("since") == "hour":
            criteria = {**criteria, "since": datetime.now(UTC) - timedelta(hours=1)}
        queue_filter = queue.QueueFilter(**criteria)
        timings = []
        shown = 0
        for attempt in range(runs + 1):
            db.session.expire_all()
            began = time.perf_counter()
            page = queue.queue_page(queue_filter)
            elapsed = (time.perf_counter() - began) * 1000
            shown = len(page.comments)
            if attempt:  # the first run warms the caches
                timings.append(elapsed)
        results.append((name, statistics.median(timings), min(timings), max(timings), shown))
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{scratch}/bench.db"
        app = fresh_app(url, Path(scratch) / "instance")
        with app.app_context():
            began = time.time()
            seed(options.comments)
            print(
                f"{db.engine.dialect.name}: {options.comments:,} comments seeded in "
                f"{time.time() - began:.0f} s; median of {options.runs} runs, first page"
            )
            results = measure(options.runs)
            base = results[0][1]
            print(f"{'query':34} {'median ms':>10} {'min-max':>15} {'× pending':>10} {'rows':>5}")
            for name, median, low, high, shown in results:
                print(
                    f"{name:34} {median:10.1f} {f'{low:.1f}-{high:.1f}':>15} "
                    f"{median / base:10.1f} {shown:5d}"
                )
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
