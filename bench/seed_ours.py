#!/usr/bin/env python3
"""Load benchmark data into our service's database, and prepare signed-in or tokenised
requests for wrk.

    seed_ours.py dataset   WORK BASE_URL RUN      the shared data set (../shared/bench/seed.py),
                                                   approved, + prepared POST requests for RUN
    seed_ours.py queue     N                       N comments (pending/approved mix) for the
                                                   queue benchmark, + a signed-in session cookie
    seed_ours.py rows      THREAD_KEY              {"rows": comments stored in that thread}

The database and the instance folder come from MODERATION_DATABASE_URL and
MODERATION_INSTANCE_PATH, as for the server.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from moderation import create_app
from moderation.domain.privacy import truncate_ip
from moderation.domain.rendering import render_comment
from moderation.domain.status import CommentStatus
from moderation.domain.websites import website_key
from moderation.extensions import db
from moderation.models import (
    Comment,
    DailyOutcome,
    DailyQueueDepth,
    Moderator,
    Site,
    StatusCount,
    Thread,
)
from moderation.services import form_tokens, moderators, sites

SITE = "bench"
#: The growth workloads' site: pages of 50 top-level comments.
GROWTH_SITE = "growth"
GROWTH_SIZES = (200, 10_000)
COUNT_THREADS = 100
ORIGIN = "http://127.0.0.1:8084"
SHARED = Path(
    os.environ.get("BENCH_SHARED", Path(__file__).resolve().parents[2] / "shared" / "bench")
)
POST_REQUESTS = 60_000
BENCH_USER = "queue-reader"
BENCH_PASSWORD = "correct horse battery staple 9"


def shared_dataset() -> list[dict[str, Any]]:
    """The peer benchmark's data set, identical to what Isso is seeded with."""
    spec = importlib.util.spec_from_file_location("shared_seed", SHARED / "seed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dataset()  # type: ignore[no-any-return]


def ensure_site() -> Site:
    found = db.session.execute(select(Site).where(Site.slug == SITE)).scalar_one_or_none()
    if found is not None:
        return found
    sites.create_site(SITE, "Benchmark", [ORIGIN])
    # every check stays on; the per-site ceiling is only raised above the load (as Isso's guard)
    return sites.update_site(
        SITE, sites.SiteSettings(submit_limit="10000000/hour", flood_seconds=15, page_size=200)
    )


def bulk_comments(site: Site, thread: Thread, rows: list[dict[str, Any]]) -> list[int]:
    """Insert comments in one statement per batch; keeps the counters right."""
    ids: list[int] = []
    for start in range(0, len(rows), 5000):
        batch = rows[start : start + 5000]
        result = db.session.execute(insert(Comment).returning(Comment.id), batch)
        ids.extend(result.scalars().all())
    approved = sum(1 for row in rows if row["status"] is CommentStatus.APPROVED)
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(approved_count=Thread.approved_count + approved, version=Thread.version + 1)
    )
    for status in CommentStatus:
        count = sum(1 for row in rows if row["status"] is status)
        if count:
            db.session.execute(
                update(StatusCount)
                .where(StatusCount.site_id == site.id, StatusCount.status == status)
                .values(count=StatusCount.count + count)
            )
    return ids


def thread_for(site: Site, key: str, title: str = "") -> Thread:
    thread = db.session.execute(
        select(Thread).where(Thread.site_id == site.id, Thread.key == key)
    ).scalar_one_or_none()
    if thread is None:
        thread = Thread(
            site_id=site.id,
            key=key,
            title=title,
            url="",
            is_open=True,
            version=0,
            approved_count=0,
            created_at=datetime.now(UTC),
        )
        db.session.add(thread)
        db.session.flush()
    return thread


def load_dataset() -> int:
    site = ensure_site()
    base = datetime.now(UTC) - timedelta(days=30)
    total = 0
    for thread_data in shared_dataset():
        thread = thread_for(site, thread_data["uri"], thread_data["title"])
        ids: list[int] = []
        roots: list[int | None] = []  # each comment's top-level ancestor (None: top-level)
        for index, item in enumerate(thread_data["comments"]):
            moment = base + timedelta(minutes=total)
            row = {
                "site_id": site.id,
                "thread_id": thread.id,
                "parent_id": ids[item["parent"]] if item["parent"] is not None else None,
                "root_id": None
                if item["parent"] is None
                else roots[item["parent"]] or ids[item["parent"]],
                "author": item["author"],
                "email": item["email"] or f"{item['author'].lower()}@anon.test",
                "url": item["website"] or "",
                "text": item["text"],
                "html": render_comment(item["text"]),
                "status": CommentStatus.APPROVED,
                "created_at": moment,
                "updated_at": moment,
                "ip_truncated": truncate_ip(f"192.0.2.{index % 250}"),
                "user_agent": "seed",
                "held_by_rule": "seed",
                "held_reason": "benchmark data",
                "source": "seed",
            }
            ids.extend(bulk_comments(site, thread, [row]))
            roots.append(row["root_id"])
            total += 1
    db.session.commit()
    analyze()
    return total


def load_growth() -> None:
    """The growth workloads' data: on the ``growth`` site (pages of 50 top-level comments)
    two threads of one shape (every fourth comment a reply to the top-level comment
    before it) with 200 and 10,000 approved comments; on the benchmark site 100 threads
    of two comments each, for counts of 100 threads."""
    found = db.session.execute(select(Site).where(Site.slug == GROWTH_SITE)).scalar_one_or_none()
    if found is None:
        sites.create_site(GROWTH_SITE, "Growth", [ORIGIN])
        found = sites.update_site(GROWTH_SITE, sites.SiteSettings(page_size=50))
    for size in GROWTH_SIZES:
        shaped_thread(found, f"/growth/thread-{size}", size)
    bench = ensure_site()
    for number in range(COUNT_THREADS):
        shaped_thread(bench, f"/bench/count-{number}", 2)
    db.session.commit()
    analyze()


def shaped_thread(site: Site, key: str, size: int) -> None:
    """``size`` approved comments in thread ``key``, every fourth a reply."""
    thread = thread_for(site, key, key)
    base = datetime.now(UTC) - timedelta(days=30)
    text = "A comment of some length, *with emphasis*, for the growth workloads."
    html = render_comment(text)
    rows = [
        {
            "site_id": site.id,
            "thread_id": thread.id,
            "parent_id": None,
            "author": f"Author {number % 97}",
            "email": f"author{number % 97}@example.test",
            "url": "",
            "text": text,
            "html": html,
            "status": CommentStatus.APPROVED,
            "created_at": base + timedelta(seconds=number),
            "updated_at": base + timedelta(seconds=number),
            "ip_truncated": "192.0.2.0/24",
            "user_agent": "seed",
            "held_by_rule": "seed",
            "held_reason": "benchmark data",
            "source": "seed",
        }
        for number in range(size)
    ]
    ids = bulk_comments(site, thread, rows)
    replies = [
        {"b_id": comment_id, "b_parent": ids[number - 1]}
        for number, comment_id in enumerate(ids)
        if number % 4 == 3
    ]
    statement = (
        update(Comment.__table__)
        .where(Comment.__table__.c.id == bindparam("b_id"))
        .values(parent_id=bindparam("b_parent"), root_id=bindparam("b_parent"))
    )
    if replies:
        db.session.connection().execute(statement, replies)


def analyze() -> None:
    """Give PostgreSQL's planner statistics and a visibility map for the bulk-loaded tables,
    as autovacuum would soon after a load (an insert-driven vacuum, then an analyze).
    Without statistics (this machine's server runs with autovacuum off) a plan cached by a
    long-lived connection can pick a poor index and slow down as tables grow; without the
    visibility map every count over an index reads the table too (at 10^6 comments the
    statistics page's queue ages took 3.3 s instead of 0.4 s)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")


def prepare_posts(work: Path, run: str) -> None:
    """Pre-made JSON submissions with every check on: each a form token (bound to its thread,
    old enough to pass the timing rules), a distinct client address and a distinct email."""
    secret = os.environ["MODERATION_SECRET_KEY"]
    issued = datetime.now(UTC) - timedelta(seconds=10)
    out = work / f"ours-posts-{run}.txt"
    with out.open("w") as handle:
        for kind in ("fresh", "warmup"):
            thread = f"/bench/{kind}-{run}"
            count = POST_REQUESTS if kind == "fresh" else POST_REQUESTS // 4
            for index in range(count):
                # warm-up and measured requests come from different people: the flood
                # interval would otherwise refuse the first measured ones
                number = index if kind == "fresh" else 1_000_000 + index
                handle.write(submission_line(kind, number, thread, secret, issued))
    os.environ.setdefault("BENCH_POSTS_FILE", str(out))
    print(f"seed: prepared {POST_REQUESTS} + {POST_REQUESTS // 4} submissions in {out}")


def submission_line(kind: str, number: int, thread: str, secret: str, issued: datetime) -> str:
    """One line of a wrk/post_prepared.lua body file: submission ``number`` to ``thread``,
    from its own client address (10.x.y.z from the number) and its own email."""
    address = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
    body = {
        "comment": f"Benchmark comment {kind} {number}: Lorem ipsum dolor sit amet, *consectetur* "
        "adipiscing elit, sed do **eiusmod** tempor incididunt ut labore et dolore magna "
        "aliqua. Ut enim ad minim veniam, quis `nostrud()` exercitation ullamco laboris.",
        "author": "Bench User",
        "email": f"bench{number}@bench.example.com",
        "form_token": form_tokens.issue(secret, SITE, thread, issued),
    }
    return f"{kind}\t{address}\t{json.dumps(body)}\n"


def load_queue(n: int) -> None:
    """``n`` comments over 100 threads, a quarter pending, newest last; a moderator."""
    site = ensure_site()
    texts = [item["text"] for thread in shared_dataset() for item in thread["comments"]][:50]
    htmls = [render_comment(text) for text in texts]
    threads = [thread_for(site, f"/queue/{k}") for k in range(100)]
    start = datetime.now(UTC) - timedelta(seconds=n)
    began = time.time()
    for offset in range(0, n, 20_000):
        by_thread: dict[int, list[dict[str, Any]]] = {}
        for number in range(offset, min(n, offset + 20_000)):
            thread = threads[number % 100]
            moment = start + timedelta(seconds=number)
            by_thread.setdefault(thread.id, []).append(
                {
                    "site_id": site.id,
                    "thread_id": thread.id,
                    "parent_id": None,
                    "author": f"Author {number % 997}",
                    "email": f"author{number % 997}@example.test",
                    "url": website(number),
                    "website_key": website_key(website(number)),
                    "text": texts[number % 50],
                    "html": htmls[number % 50],
                    "status": CommentStatus.PENDING if number % 4 == 0 else CommentStatus.APPROVED,
                    "created_at": moment,
                    "updated_at": moment,
                    "ip_truncated": f"192.0.{number % 200}.0/24",
                    "user_agent": "seed",
                    "held_by_rule": "premoderation" if number % 10 else "too_many_links",
                    "held_reason": "The site reviews every comment first.",
                    "source": "seed",
                }
            )
        for thread in threads:
            if thread.id in by_thread:
                bulk_comments(site, thread, by_thread[thread.id])
        db.session.commit()
        print(
            f"seed: {min(n, offset + 20_000)}/{n} comments ({time.time() - began:.0f} s)",
            flush=True,
        )
    if not db.session.execute(
        select(Moderator).where(Moderator.username == BENCH_USER)
    ).scalar_one_or_none():
        moderators.create_moderator(BENCH_USER, BENCH_PASSWORD, "admin")
    count_days(site, start, n)
    db.session.commit()
    analyze()


def website(number: int) -> str:
    """A third of the authors give a website, on 50 domains."""
    return f"https://site{number % 50}.example/page" if number % 3 == 0 else ""


def count_days(site: Site, start: datetime, n: int) -> None:
    """The statistics page's daily counts and queue depths for the loaded comments (one a
    second from ``start``), as the submissions would have kept them."""
    per_day: dict[tuple[Any, str, str], int] = {}
    for number in range(n):
        moment = start + timedelta(seconds=number)
        outcome = "hold" if number % 4 == 0 else "publish"
        rule = "premoderation" if number % 10 else "too_many_links"
        key = (moment.date(), outcome, rule if outcome == "hold" else "open_policy")
        per_day[key] = per_day.get(key, 0) + 1
    db.session.execute(
        insert(DailyOutcome),
        [
            {"site_id": site.id, "day": day, "outcome": outcome, "rule": rule, "count": count}
            for (day, outcome, rule), count in per_day.items()
        ],
    )
    # the queue's depth at the end of each day: every fourth comment still waits
    waiting: dict[Any, int] = {}
    for number in range(0, n, 4):
        day = (start + timedelta(seconds=number)).date()
        waiting[day] = waiting.get(day, 0) + 1
    depth = 0
    rows = []
    for day in sorted(waiting):
        depth += waiting[day]
        rows.append({"site_id": site.id, "day": day, "pending": depth})
    db.session.execute(insert(DailyQueueDepth), rows)


def count_rows(thread_key: str) -> None:
    rows = db.session.execute(
        select(func.count(Comment.id))
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Thread.key == thread_key)
    ).scalar_one()
    print(json.dumps({"rows": rows}))


def main(argv: list[str]) -> int:
    app = create_app()
    with app.app_context():
        if argv[:1] == ["dataset"] and len(argv) == 4:
            began = time.time()
            total = load_dataset()
            load_growth()
            print(f"seed: {total} comments (+ growth) loaded in {time.time() - began:.1f} s")
            prepare_posts(Path(argv[1]), argv[3])
        elif argv[:1] == ["queue"] and len(argv) == 2:
            load_queue(int(argv[1]))
        elif argv[:1] == ["rows"] and len(argv) == 2:
            count_rows(argv[1])
        else:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
