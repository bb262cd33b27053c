#!/usr/bin/env python3
"""Where one comment submission's CPU goes, inside one process: a loop of posts through
``app.test_client()`` (the ``post`` workload of ``bench/inprocess.py``: a JSON post, or the
widget's form post with ``--door form``), profiled.

    python bench/post_profile.py --backend sqlite|pg [--door json|form] [--posts 300]
                                 [--warm 20] [--profile FILE]
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=OUT \\
        python bench/post_profile.py --backend sqlite --callgrind --posts 40 --warm 4

Without ``--callgrind`` it runs cProfile on a CPU clock and prints the top of the profile
(``--profile FILE`` keeps it for ``pstats``) with the CPU per post. Under valgrind,
``--callgrind`` switches instruction counting on for the measured loop only (through
``callgrind_control``, after the warm-up posts) and dumps it to ``OUT.1``, whose
``totals:`` line divided by ``--posts`` is the instructions per post: a count that does
not move with the machine's load. Databases and the limits' storage
as ``bench/inprocess.py`` (``BENCH_PG_URL``, ``BENCH_REDIS_URL``/``BENCH_REDIS_DB``,
``BENCH_SQLITE_LIMITS``).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import inprocess


def poster(app: Any, door: str) -> Any:
    """A function posting comment ``number`` through ``door`` (``bench/inprocess.py``'s
    fields); asserts the post was accepted."""
    client = app.test_client()
    issued = datetime.now(UTC) - timedelta(seconds=10)

    def post(number: int) -> None:
        body, headers = inprocess.post_fields(number, issued)
        if door == "json":
            response = client.post(
                "/api/v1/sites/bench/comments?thread=%2Fbench%2Ffresh", json=body, headers=headers
            )
            assert response.status_code == 202, response.get_data(as_text=True)
        else:
            response = client.post("/w/bench?thread=%2Fbench%2Ffresh", data=body, headers=headers)
            assert response.status_code == 303, response.get_data(as_text=True)

    return post


def counted(run: Callable[[], object], name: str) -> None:
    """Run ``run`` with callgrind's instruction counting on (this process runs under
    ``valgrind --tool=callgrind --instr-atstart=no``) and dump its counts as ``name``: the
    next ``OUT.N`` file, whose ``totals:`` line is what ``run`` executed."""
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "--zero", pid], check=True, capture_output=True)
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    run()
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    dump = subprocess.run(
        ["callgrind_control", f"--dump={name}", pid], check=True, capture_output=True, text=True
    )
    print(dump.stdout.strip(), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--door", choices=["json", "form"], default="json")
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--callgrind", action="store_true", help="running under valgrind")
    parser.add_argument("--profile", metavar="FILE", help="keep the cProfile data")
    parser.add_argument(
        "--plain", action="store_true", help="no profiler (for py-spy or perf from outside)"
    )
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="post-profile-") as folder:
        folder_path = Path(folder)
        folder_path.chmod(0o700)
        app = inprocess.make_app(args.backend, folder_path)
        inprocess.seed(app)
        counter = inprocess.Counter(app)
        post = poster(app, args.door)
        for number in range(args.warm):
            post(number)
        counter.count = 0
        numbers = range(args.warm, args.warm + args.posts)
        if args.callgrind:
            counted(lambda: [post(number) for number in numbers], "loop")
        elif args.plain:
            started = time.process_time()
            for number in numbers:
                post(number)
            cpu = time.process_time() - started
            print(f"CPU per post: {1000 * cpu / args.posts:.3f} ms")
        else:
            profiler = cProfile.Profile(time.process_time)
            started = time.process_time()
            profiler.enable()
            for number in numbers:
                post(number)
            profiler.disable()
            cpu = time.process_time() - started
            print(f"CPU per post (profiled): {1000 * cpu / args.posts:.3f} ms")
            if args.profile:
                profiler.dump_stats(args.profile)
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        print(f"statements per post: {counter.count / args.posts:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
