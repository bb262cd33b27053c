#!/usr/bin/env python3
"""In-process timings of the reads issue 21 added, on a 200-comment thread (SQLite):
the fragment (render-cache hit and 304), the thread and site feeds (rendered every time),
the JSON read beside them for scale, and a Markdown preview.

    python bench/reach_reads.py [--comments 200] [--runs 7] [--requests 200]

Each path is asked ``--requests`` times per run; the median per-request time over the runs
and the spread (min-max) are printed in milliseconds. The Flask test client, no network:
it measures the application, not a server.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation import create_app
from tests.databases import BASE_CONFIG, migrate
from tests.helpers import Actions, approve, seed_comments


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    folder = tempfile.mkdtemp()
    app = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "LIMIT_SUBMIT_PER_ADDRESS": "100000/minute",
            "LIMIT_SUBMIT_PER_EMAIL": "100000/minute",
            "LIMIT_SUBMIT_PER_SITE": "100000/minute",
        },
        instance_path=folder,
    )
    migrate(app)
    Actions(app).create_site("blog", ["https://blog.example"], page_size=500, flood_seconds=0)
    for comment_id in seed_comments(app, args.comments):
        approve(app, comment_id)
    client = app.test_client()
    fragment = "/w/blog/fragment?thread=post-1"
    etag = client.get(fragment).headers["ETag"]
    cases = {
        "fragment (cached render)": lambda: client.get(fragment),
        "fragment (304)": lambda: client.get(fragment, headers={"If-None-Match": etag}),
        "JSON read (for scale)": lambda: client.get("/api/v1/sites/blog/comments?thread=post-1"),
        "thread feed (50 entries)": lambda: client.get("/feeds/blog.atom?thread=post-1"),
        "site feed (50 entries)": lambda: client.get("/feeds/blog.atom"),
        "Markdown preview (300 chars)": lambda: client.post(
            "/w/blog/preview?thread=post-1",
            data={"comment": "Some **bold** words, a [link](https://x.example) and `code`. " * 5},
            headers={"Origin": "https://blog.example"},
        ),
    }
    print(f"{args.comments} approved comments, {args.runs} runs x {args.requests} requests")
    for name, ask in cases.items():
        assert ask().status_code in (200, 304), name
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            for _ in range(args.requests if "preview" not in name else min(args.requests, 50)):
                ask()
            count = args.requests if "preview" not in name else min(args.requests, 50)
            timings.append((time.perf_counter() - started) * 1000 / count)
        print(
            f"  {name:30} median {statistics.median(timings):6.2f} ms"
            f"  (spread {min(timings):.2f}-{max(timings):.2f})"
        )


if __name__ == "__main__":
    main()
