#!/usr/bin/env python3
"""The dashboard's first pages from outside, signed in, at N comments: every tab, searches
(matching nothing, one email, a common word), the filters, and the statistics page, each
as a ratio to the pending tab's first page (issue 17's goal: within 2x at 10^6).

    python bench/queue_pages.py --comments 100000                      # SQLite
    python bench/queue_pages.py --comments 1000000 --backend pg        # PostgreSQL (long)
    python bench/queue_pages.py --comments 1000000 --backend both --runs 7

The data is bench/seed_ours.py's queue set (100 threads, a quarter pending, 997 authors,
a third with a website) in a fresh database: a SQLite file under --work, or the PostgreSQL
database --pg-db (dropped and created again). A real ``moderation serve`` answers; each
page is asked once to warm up, then --runs times one after another; the median and the
spread (min-max) are printed in ms with the median's ratio to the pending tab. Not part
of the test suite.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from seed_ours import BENCH_PASSWORD, BENCH_USER  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

#: (what, query string of /dashboard/)
PAGES = [
    ("tab pending", ""),
    ("tab approved", "status=approved"),
    ("tab rejected (empty)", "status=rejected"),
    ("tab spam (empty)", "status=spam"),
    ("tab deleted (empty)", "status=deleted"),
    ("tab all", "status=all"),
    ("search all: nothing matches", "status=all&q=zebra+crossing"),
    ("search all: one email", "status=all&q=author512%40example.test"),
    ("search all: common word", "status=all&q=dolore"),
    ("search pending: common word", "q=dolore"),
    ("filter all: exact email", "status=all&email=author512%40example.test"),
    ("filter all: website domain", "status=all&website=site7.example"),
    ("filter all: IP network", "status=all&ip=192.0.2.9"),
    ("filter all: rule", "status=all&rule=too_many_links"),
    ("filter all: a day", "status=all&from={yesterday}&to={yesterday}"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shared_bench() -> str:
    """``../shared/bench`` of the checkout (or of the folder holding a worktree)."""
    if "BENCH_SHARED" in os.environ:
        return os.environ["BENCH_SHARED"]
    for folder in HERE.parents:
        if (folder / "shared" / "bench" / "seed.py").exists():
            return str(folder / "shared" / "bench")
    raise SystemExit("set BENCH_SHARED to the shared/bench folder (seed.py)")


def environment(backend: str, work: Path, pg_db: str) -> dict[str, str]:
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_db}"
        if backend == "pg"
        else f"sqlite:///{work / 'queue-pages.db'}"
    )
    return {
        **os.environ,
        "MODERATION_DATABASE_URL": url,
        "MODERATION_INSTANCE_PATH": str(work / "instance"),
        "MODERATION_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "MODERATION_SESSION_COOKIE_SECURE": "false",
        "MODERATION_LOG_LEVEL": "WARNING",
        "MODERATION_RATELIMIT_STORAGE_URI": "memory://",
        "BENCH_SHARED": shared_bench(),
    }


def fresh_database(backend: str, work: Path, pg_db: str) -> None:
    if backend == "pg":
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{pg_db}"'))
        admin.dispose()
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work / 'queue-pages.db'}{suffix}").unlink(missing_ok=True)
    (work / "instance").mkdir(mode=0o700, parents=True, exist_ok=True)


def run(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, *args], env=env, check=True)


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "moderation", "serve", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return process
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def signed_in(base: str) -> urllib.request.OpenerDirector:
    """A browser-like opener with the bench moderator's session."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/dashboard/sign-in").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page[:500]
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "username": BENCH_USER, "password": BENCH_PASSWORD}
    ).encode()
    answer = opener.open(f"{base}/dashboard/sign-in", data=form)
    assert answer.geturl().endswith("/dashboard/"), answer.geturl()
    return opener


def measure(opener: urllib.request.OpenerDirector, url: str, runs: int) -> list[float]:
    timings = []
    for attempt in range(runs + 1):
        began = time.perf_counter()
        with opener.open(url, timeout=300) as response:
            response.read()
            assert response.status == 200, (url, response.status)
        if attempt:  # the first warms the caches
            timings.append((time.perf_counter() - began) * 1000)
    return timings


def bench(
    backend: str, comments: int, runs: int, work: Path, pg_db: str, seed: bool = True
) -> list[dict[str, object]]:
    env = environment(backend, work, pg_db)
    began = time.time()
    if seed:
        fresh_database(backend, work, pg_db)
        run(env, "-m", "moderation", "db", "upgrade")
        run(env, str(HERE / "seed_ours.py"), "queue", str(comments))
    seeded = time.time() - began
    port = free_port()
    server = start_server(env, port, work / f"serve-{backend}.log")
    try:
        base = f"http://127.0.0.1:{port}"
        opener = signed_in(base)
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        pages = [
            (name, f"/dashboard/?{query.format(yesterday=yesterday)}") for name, query in PAGES
        ]
        pages.append(("statistics, 30 days", "/dashboard/statistics"))
        rows = []
        for name, path in pages:
            timings = measure(opener, base + path, runs)
            rows.append(
                {
                    "backend": backend,
                    "comments": comments,
                    "page": name,
                    "median_ms": statistics.median(timings),
                    "min_ms": min(timings),
                    "max_ms": max(timings),
                }
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    pending = float(rows[0]["median_ms"])  # type: ignore[arg-type]
    how = f"seeded in {seeded:.0f} s" if seed else "seeded by an earlier run"
    print(
        f"\n{backend}: {comments:,} comments ({how}), first page over HTTP, "
        f"signed in; median of {runs} runs"
    )
    print(f"{'page':32} {'median ms':>10} {'min-max':>17} {'x pending':>10}")
    for row in rows:
        ratio = float(row["median_ms"]) / pending  # type: ignore[arg-type]
        row["ratio"] = ratio
        spread = f"{row['min_ms']:.1f}-{row['max_ms']:.1f}"
        print(f"{row['page']:32} {row['median_ms']:10.1f} {spread:>17} {ratio:10.2f}")
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "pg", "both"], default="sqlite")
    parser.add_argument("--work", default="/tmp/queue-pages-bench")
    parser.add_argument("--pg-db", default="moderation_queue_bench")
    parser.add_argument("--json", default="", help="also write the rows to this file")
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="measure the database an earlier run seeded (--comments only labels it)",
    )
    options = parser.parse_args(argv)
    work = Path(options.work)
    work.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "pg"] if options.backend == "both" else [options.backend]
    rows = []
    for backend in backends:
        rows += bench(
            backend, options.comments, options.runs, work, options.pg_db, not options.no_seed
        )
    if options.json:
        Path(options.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
