#!/usr/bin/env python3
"""CPU per public read, in process: ours beside the Flask fixed-body ceiling.

    .venv/bin/python bench/read_cpu.py [--requests 400] [--runs 7]
                                       [--workloads list200,list200-page,count5]
                                       [--log-level WARNING] [--profile list200-page]

On a shared machine wall-clock req/s say more about the neighbours than about the code;
the CPU time this process spends per request does not. The app is built as ``moderation
serve`` builds it in a worker (``create_app()`` from ``MODERATION_*`` settings, metrics in a
multiprocess directory, SQLite, the shared seed data set of bench/reads.py), warmed, and
called as a WSGI application with the environ a server would hand it (``wrk``'s request:
``GET`` with a ``Host`` header only), the body iterated and closed as a server does. The
ceiling is the shared reference app (``../shared/bench/ref_flask/app_fixed.py``: Flask
returning pre-serialised bytes) for bodies of exactly our answers' sizes, called the same
way in the same process, interleaved with ours.

Each run times ``--requests`` calls per target with ``time.process_time``; the report
gives, per workload, the median µs of CPU per request over the runs with the min-max, and
the ratio ceiling/ours (the share of the ceiling's request rate that ours reaches when the
CPU is the limit) as the median of the runs' ratios with its min-max. The server's own
work per request (parsing, writing) comes on top of both and is left out here, so served
ratios are closer to 1 than these.

``--profile WORKLOAD`` prints where our requests of that workload spend their time
(cProfile, the top functions by internal time and by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")).resolve()
THREADS5 = "&".join(f"thread=%2Fbench%2Fpost-{n}" for n in range(1, 6))
WORKLOADS = {
    "list200": "/api/v1/sites/bench/comments?thread=%2Fbench%2Fpost-1",
    "list200-page": "/w/bench?thread=%2Fbench%2Fpost-1",
    "count5": f"/api/v1/sites/bench/counts?{THREADS5}",
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_for(path_and_query: str) -> dict[str, Any]:
    """What a server hands the app for ``wrk``'s request (``GET``, ``Host`` only)."""
    path, _, query = path_and_query.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": path_and_query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8095",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8095",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, int]:
    """One request as a server makes it: start, iterate the body, close; status and size."""
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)
        return lambda data: None

    answer = app(dict(environ), start_response)
    size = 0
    try:
        for chunk in answer:
            size += len(chunk)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    return seen[0], size


def cpu_per_request(app: WSGIApp, environ: dict[str, Any], requests: int) -> float:
    """µs of this process's CPU per request, over ``requests`` calls."""
    started = time.process_time()
    for _ in range(requests):
        call(app, environ)
    return (time.process_time() - started) / requests * 1e6


def build_ours(folder: Path, log_level: str) -> WSGIApp:
    """Our app on a freshly seeded SQLite database, configured as ``moderation serve`` is."""
    os.environ.update(
        {
            "MODERATION_INSTANCE_PATH": str(folder / "instance"),
            "MODERATION_DATABASE_URL": f"sqlite:///{folder / 'reads.db'}",
            "MODERATION_SECRET_KEY": "benchmark-secret-key-not-for-production",
            "MODERATION_LOG_LEVEL": log_level,
            "MODERATION_TRUSTED_PROXIES": "1",
            "BENCH_SHARED": str(SHARED),
            # as under serve: every worker counts into a shared directory
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        }
    )
    (folder / "instance").mkdir(mode=0o700)
    (folder / "metrics").mkdir()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import seed_ours  # type: ignore[import-not-found]
    from flask_migrate import upgrade

    from moderation import create_app
    from moderation.extensions import MIGRATIONS_DIRECTORY

    setup = create_app()
    with setup.app_context():
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
        print(f"seeded {seed_ours.load_dataset()} comments", file=sys.stderr)
    return create_app()  # a worker's own app, as after gunicorn's fork


def build_ceiling(sizes: Iterable[int]) -> WSGIApp:
    """The shared Flask reference app, serving fixed bodies of ``sizes`` bytes."""
    os.environ["REF_FIXED_SIZES"] = ",".join(str(size) for size in sorted(set(sizes)))
    sys.path.insert(0, str(SHARED / "ref_flask"))
    module = importlib.import_module("app_fixed")
    return module.app  # type: ignore[no-any-return]


def profile(app: WSGIApp, environ: dict[str, Any], requests: int) -> None:
    """Where ``requests`` calls spend their time (cProfile), printed to stdout."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call(app, environ)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats(order).print_stats(60)


def spread(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400, help="calls per target per run")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="MODERATION_LOG_LEVEL (bench/reads.py runs WARNING; the default is INFO)",
    )
    parser.add_argument("--profile", default="", help="profile ours on this workload instead")
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    folder = Path(tempfile.mkdtemp(prefix="read-cpu-"))
    ours = build_ours(folder, args.log_level)
    if logging.getLogger("moderation").isEnabledFor(logging.INFO):
        # the request lines are written (formatted, one write each) where no one reads them
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    environs = {workload: environ_for(WORKLOADS[workload]) for workload in workloads}
    sizes = {}
    for workload, environ in environs.items():
        status, size = call(ours, environ)
        if not status.startswith("200"):
            raise SystemExit(f"{workload}: {status}")
        sizes[workload] = size
    print(f"body sizes: {sizes}", file=sys.__stderr__)
    if args.profile:
        cpu_per_request(ours, environs[args.profile], args.requests)  # warm
        profile(ours, environs[args.profile], args.requests)
        return 0
    ceiling = build_ceiling(sizes.values())
    ceiling_environs = {w: environ_for(f"/fixed/{sizes[w]}") for w in workloads}
    for workload in workloads:  # warm both, and check the ceiling's sizes
        status, size = call(ceiling, ceiling_environs[workload])
        assert status.startswith("200") and size == sizes[workload], (status, size)
        cpu_per_request(ours, environs[workload], max(50, args.requests // 4))
        cpu_per_request(ceiling, ceiling_environs[workload], max(50, args.requests // 4))
    results: dict[str, dict[str, list[float]]] = {
        w: {"ours": [], "ceiling": [], "ratio": []} for w in workloads
    }
    for run in range(args.runs):
        for workload in workloads:
            mine = cpu_per_request(ours, environs[workload], args.requests)
            theirs = cpu_per_request(ceiling, ceiling_environs[workload], args.requests)
            results[workload]["ours"].append(mine)
            results[workload]["ceiling"].append(theirs)
            results[workload]["ratio"].append(theirs / mine)
            print(
                f"run {run + 1} {workload}: ours {mine:.0f} µs, ceiling {theirs:.0f} µs",
                file=sys.__stderr__,
            )
    print(
        f"CPU per request, in process ({args.runs} runs x {args.requests} requests; "
        f"median (min-max)); log level {args.log_level}"
    )
    print("| workload | bytes | ours µs | ceiling µs | ceiling/ours |")
    print("|---|---:|---:|---:|---:|")
    for workload in workloads:
        found = results[workload]
        print(
            f"| {workload} | {sizes[workload]} | {spread(found['ours'])} | "
            f"{spread(found['ceiling'])} | {spread(found['ratio'], 2)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
