"""How fast ``moderation import`` stores comments, and how much memory it takes.

    python bench/import_speed.py --comments 10000 --runs 3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_import
    python bench/gen_import_files.py 100000 --out /tmp/import-files --formats wxr,jsonl
    python bench/import_speed.py /tmp/import-files/comments.wxr
    python bench/import_speed.py /tmp/import-files/comments.wxr --sqlite \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_import

``--comments N`` writes a WXR of N comments first (``gen_import_files.py``, into a
temporary folder, removed afterwards); a FILE instead imports that file. With
``--postgres`` the runs go to PostgreSQL, and also to SQLite when ``--sqlite`` is given
or no FILE is (``--comments`` measures both).

Each run is a fresh process: a new migrated database (a temporary SQLite file, or the
PostgreSQL database named, emptied first), one site, then the import service on the whole
file, exactly as ``moderation import`` runs it (batches of 1,000 comments, one commit each).
Prints comments stored per second (wall clock; CPU of the importing process; that plus its
helper process's, which works out the features the comments teach; and plus the
PostgreSQL server's, read from ``/proc/<pid>/stat`` for every backend serving the database:
the import's session and the connection that drops and builds again its search indexes;
the machine is shared, so all are shown; and the server's CPU per comment alone), the peak resident memory (``VmHWM``) of the importing process and of its helper
(sampled from ``/proc`` every 0.2 s while it runs) and the load average at the start;
then each run's raw numbers (JSON). ``--runs N`` repeats and prints the median with the
spread (min to max).

To compare two versions of the code, run the same command with ``PYTHONPATH`` naming an
extracted copy of the other (``git archive COMMIT | tar -x -C /tmp/before``): the run's
processes, helper included, import ``moderation`` from there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent

FORMATS = {".wxr": "wxr", ".jsonl": "jsonl", ".xml": "disqus", ".gz": "remark42", ".db": "isso"}

_MEASURE = """
import json, os, re, sys, tempfile, threading, time
from sqlalchemy import text
from pathlib import Path
fmt, path, url = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.append(sys.argv[4])  # bench/, last: "moderation" still comes from PYTHONPATH
from fresh_site import bench_app, fresh_database, migrate_with_site
from worker_shares import cpu_seconds
folder = tempfile.mkdtemp(prefix="import-bench-")
url = fresh_database(url, folder, "bench.db")
from moderation.services.importing import import_comments
app = bench_app(url, folder)
monitor = None
if url.startswith("postgresql"):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool
    monitor = create_engine(url, poolclass=NullPool).connect()
    monitor_pid = monitor.execute(text("SELECT pg_backend_pid()")).scalar()
server_seen = {}  # pid: (CPU seconds when first seen, when last seen)
def sample_server():
    # CPU seconds of every PostgreSQL backend serving this database but the monitor's (same
    # machine): the import's session and the connection that drops and builds its search
    # indexes; one that appears during the import counts from zero
    if monitor is None:
        return
    pids = monitor.execute(
        text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
             "AND backend_type = 'client backend' AND pid <> :me"), {"me": monitor_pid}
    ).scalars().all()
    monitor.rollback()
    for pid, used in cpu_seconds(pids).items():
        first = server_seen[pid][0] if pid in server_seen else (used if not importing else 0.0)
        server_seen[pid] = (first, used)
importing = False
helper_peaks = {}
finished = threading.Event()
own_command = Path("/proc/self/cmdline").read_bytes()
def watch_helpers():
    # the peak memory of every child process (the helper), sampled while the import runs
    while not finished.wait(0.2):
        sample_server()
        for task in os.listdir("/proc/self/task"):
            try:
                children = Path(f"/proc/self/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in children:
                try:
                    if Path(f"/proc/{child}/cmdline").read_bytes() == own_command:
                        continue  # forked, not yet the helper: its memory is still ours
                    found = re.search(r"VmHWM:\\s+(\\d+) kB", Path(f"/proc/{child}/status").read_text())
                except OSError:
                    continue
                if found:
                    helper_peaks[child] = max(helper_peaks.get(child, 0), int(found[1]) * 1024)
load = os.getloadavg()[0]
with app.app_context():
    migrate_with_site()
    from moderation.extensions import db
    if url.startswith("postgresql"):
        db.session.execute(text("SELECT 1"))  # the session's backend, there from the start
        db.session.commit()
    sample_server()
    importing = True
    watcher = threading.Thread(target=watch_helpers, daemon=True)
    watcher.start()
    started, cpu = time.perf_counter(), time.process_time()
    report = import_comments(fmt, path, "bench")
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    finished.set()
    watcher.join()
    sample_server()
    server = sum(last - first for first, last in server_seen.values())
status = Path("/proc/self/status").read_text()
import resource
print(json.dumps({
    # the helper process (a child, ended): its CPU (its peak memory is sampled above:
    # the rusage of a child counts the pages it shared before its exec)
    "helper_cpu": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
    "imported": report.imported, "refused": sum(report.read.refusals.values()),
    "wall": wall, "cpu": cpu, "server_cpu": server,
    "peak_rss": int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) * 1024,
    "helper_peak_rss": max(helper_peaks.values(), default=0),
    "load": load,
    "error": report.error,
    "search_rebuild_s": getattr(getattr(report, "search_rebuild", None), "seconds", 0.0),
}))
"""


def measure(fmt: str, path: Path, url: str) -> dict[str, float]:
    """One import of ``path`` in a fresh process; its counts, times and peak memory."""
    finished = subprocess.run(
        [sys.executable, "-c", _MEASURE, fmt, str(path), url, str(BENCH)],
        capture_output=True,
        text=True,
        check=False,
        # not the caller's folder: "-c" puts it first on sys.path, and from a checkout it
        # would shadow the PYTHONPATH of a "before" copy (both runs then measure one code)
        cwd=tempfile.gettempdir(),
    )
    if finished.returncode != 0:
        raise SystemExit(finished.stderr[-2000:])
    result: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def generate(comments: int) -> Path:
    """A WXR of ``comments`` comments in a new temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="import-speed-"))
    script = str(BENCH / "gen_import_files.py")
    subprocess.run(
        [sys.executable, script, str(comments), "--out", str(folder), "--formats", "wxr"],
        check=True,
        capture_output=True,
    )
    return folder / "comments.wxr"


def report(engine: str, fmt: str, runs: list[dict[str, float]]) -> str:
    """One table row: the median of the runs and their spread (min to max)."""
    wall = [r["imported"] / r["wall"] for r in runs]
    cpu = [r["imported"] / r["cpu"] for r in runs]
    helped = [r["imported"] / (r["cpu"] + r.get("helper_cpu", 0)) for r in runs]
    both = [
        r["imported"] / (r["cpu"] + r.get("helper_cpu", 0) + r.get("server_cpu", 0)) for r in runs
    ]
    rss = [r["peak_rss"] / 2**20 for r in runs]
    helper_rss = [r.get("helper_peak_rss", 0) / 2**20 for r in runs]
    load = [r.get("load", 0) for r in runs]
    server = [r.get("server_cpu", 0) / r["imported"] * 1e6 for r in runs]
    row = (
        f"| {engine} | {fmt} | {runs[0]['imported']:,.0f} | {len(runs)} | "
        f"{statistics.median(wall):,.0f} ({min(wall):,.0f}–{max(wall):,.0f}) | "
        f"{statistics.median(cpu):,.0f} ({min(cpu):,.0f}–{max(cpu):,.0f}) | "
        f"{statistics.median(helped):,.0f} ({min(helped):,.0f}–{max(helped):,.0f}) | "
        f"{statistics.median(both):,.0f} ({min(both):,.0f}–{max(both):,.0f}) | "
        f"{statistics.median(rss):.0f} MiB (max {max(rss):.0f}) | "
        f"{statistics.median(helper_rss):.0f} MiB (max {max(helper_rss):.0f}) | "
        f"{min(load):.1f}–{max(load):.1f} | "
        f"{statistics.median(server):.0f} ({min(server):.0f}–{max(server):.0f}) |"
    )
    row += "\n" + json.dumps(runs)
    if runs[0].get("error"):
        row += f"\nstopped: {runs[0]['error']}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?", help="a file gen_import_files.py wrote")
    parser.add_argument("--comments", type=int, default=0, help="generate a WXR of N comments")
    parser.add_argument("--format", default=None, help="the file's format (default: by suffix)")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (emptied!) to use")
    parser.add_argument("--sqlite", action="store_true", help="SQLite too, with --postgres")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if (args.file is None) == (not args.comments):
        parser.error("give a FILE or --comments N")
    path = args.file or generate(args.comments)
    fmt = args.format or FORMATS[path.suffix]
    targets = [("PostgreSQL", args.postgres)] if args.postgres else []
    if not args.postgres or args.sqlite or args.file is None:
        targets.insert(0, ("SQLite", ""))
    print(
        "| database | format | comments | runs | comments/s (wall) | comments/s (CPU) "
        "| comments/s (CPU with the helper's) | comments/s (CPU with the helper's and the "
        "server's) | peak RSS importer | peak RSS helper | load at start "
        "| server CPU µs/comment |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for engine, url in targets:
            runs = [measure(fmt, path, url) for _ in range(args.runs)]
            print(report(engine, fmt, runs), flush=True)
    finally:
        if args.file is None:
            shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
