#!/usr/bin/env python3
"""One command for the whole side-by-side benchmark: this service and Isso, same machine,
same run, same gunicorn settings and concurrency, ratios printed at the end.

    python3 bench/run.py [--quick] [--reps N] [--duration S] [--skip-queue] [--skip-isso]

1. workloads against Isso and us with the shared harness (../shared/bench/run_bench.py):
   list200 (JSON and the widget page), count5, post (every check on) — on SQLite with one
   process, and on PostgreSQL + Redis with two processes; Isso's post also with its guard on;
   and ours alone for growth: the first page (50 top-level comments) of a 200- and of a
   10,000-comment thread, counts of 100 threads beside counts of 5;
2. the dashboard's first queue page at 10^3 and 10^6 comments (SQLite and PostgreSQL);
3. resident memory of every server process after load;
4. a concurrent-write correctness probe (answers that describe another request's comment);
5. CPU and database statements per request inside one process (bench/inprocess.py):
   what a loaded machine cannot blur;
6. the server's flags (bench/reads.py): the default against the best config found, against
   one process and against the Flask ceiling for the same bytes (needs FLASK_VENV, made by
   ../shared/bench/ref_flask.sh setup);
then prints the tables (req/s as the median of the reps with their min-max, p99 beside
every throughput) and each goal met or not, and writes them to bench/results/<tag>/.
The measurements of ours alone (2-4) are bench/run_alone.py's, the tables
bench/run_report.py's, the folders, ports and command runner bench/run_env.py's.

Everything runs on 127.0.0.1; PostgreSQL and Redis must be up (scripts/services.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from run_alone import memory_and_probe, queue_benchmark
from run_env import BASE, HERE, LEAN_GET, ROOT, SHARED, THREADS5, THREADS100, WORK, log, sh
from run_report import report


def target(backend: str) -> dict[str, Any]:
    """Our service as a run_bench.py target."""
    ours = str(HERE / "ours.sh")
    posts = "/api/v1/sites/bench/comments?thread=%2Fbench%2F"
    return {
        "description": f"this service ({backend}), gunicorn sync, --preload",
        "base_url": BASE,
        "pidfile": "{work}/ours.pid",
        "start": f"{ours} start {backend} {{workers}}",
        "seed": f"{ours} seed {backend} {{run}}",
        "stop": f"{ours} stop",
        "workloads": [
            {
                "id": "list200",
                "description": "approved comments of the 200-comment thread (JSON)",
                "script": LEAN_GET,
                "path": "/api/v1/sites/bench/comments?thread=%2Fbench%2Fpost-1",
            },
            {
                "id": "list200-page",
                "description": "the widget page of the 200-comment thread (HTML)",
                "script": LEAN_GET,
                "path": "/w/bench?thread=%2Fbench%2Fpost-1",
            },
            {
                "id": "count5",
                "description": "approved-comment counts of 5 threads",
                "script": "get.lua",
                "path": f"/api/v1/sites/bench/counts?{THREADS5}",
            },
            {
                "id": "first-page-200",
                "description": "first page (50 top-level comments) of a 200-comment thread (JSON)",
                "script": LEAN_GET,
                "path": "/api/v1/sites/growth/comments?thread=%2Fgrowth%2Fthread-200",
            },
            {
                "id": "first-page-10000",
                "description": "first page (50 top-level comments) of a 10,000-comment thread",
                "script": LEAN_GET,
                "path": "/api/v1/sites/growth/comments?thread=%2Fgrowth%2Fthread-10000",
            },
            {
                "id": "count100",
                "description": "approved-comment counts of 100 threads",
                "script": "get.lua",
                "path": f"/api/v1/sites/bench/counts?{THREADS100}",
            },
            {
                "id": "post",
                "description": "JSON submission, every check on: validation, single-use form token, "
                "spam rules, rate limits per address/email/site with distinct client addresses",
                "script": str(HERE / "wrk" / "post_prepared.lua"),
                "path": posts + "fresh-{run}",
                "warmup_path": posts + "warmup-{run}",
                "body_file": "{work}/ours-posts-{run}.txt",
                "verify": f"{ours} rows {backend} /bench/fresh-{{run}}",
                "verify_warmup": f"{ours} rows {backend} /bench/warmup-{{run}}",
            },
        ],
    }


def floor_target(backend: str) -> dict[str, Any]:
    """bench/floor/app.py: the Flask floor of a post (presence checks, one INSERT, COMMIT)."""
    floor = str(HERE / "floor.sh")
    posts = "/api/v1/sites/bench/comments?thread=%2Fbench%2F"
    return {
        "description": f"the Flask floor of a post ({backend}): no checks of ours",
        "base_url": f"http://127.0.0.1:{os.environ.get('FLOOR_PORT', '8085')}",
        "pidfile": "{work}/floor.pid",
        "start": f"{floor} start {backend} {{workers}}",
        "seed": f"{floor} seed {backend} {{run}}",
        "stop": f"{floor} stop",
        "workloads": [
            {
                "id": "post",
                "description": "JSON submission: presence checks, find or create the thread, "
                "INSERT, COMMIT",
                "script": "post_json.lua",
                "path": posts + "fresh-{run}",
                "warmup_path": posts + "warmup-{run}",
                "body_file": "{work}/floor-post.json",
                "verify": f"{floor} rows {backend} /bench/fresh-{{run}}",
                "verify_warmup": f"{floor} rows {backend} /bench/warmup-{{run}}",
            }
        ],
    }


def write_config() -> Path:
    with (SHARED / "targets.json").open() as handle:
        shared = json.load(handle)["targets"]
    isso = shared["isso"]
    # the 200-comment read with the same client as ours (bench/wrk/get_lean.lua says why)
    for workload in isso["workloads"]:
        if workload["id"] == "list200":
            workload["script"] = LEAN_GET
    guard = json.loads(json.dumps(isso))
    guard["description"] = "Isso with its spam guard on (limits too high to trip)"
    guard["start"] = "ISSO_GUARD=on " + isso["start"]
    guard["workloads"] = [dict(w, id="post-guard") for w in isso["workloads"] if w["id"] == "post"]
    config = {
        "targets": {
            "isso": isso,
            "isso-guard": guard,
            "ours-sqlite": target("sqlite"),
            "ours-pg": target("pg"),
            "floor-sqlite": floor_target("sqlite"),
            "floor-pg": floor_target("pg"),
        }
    }
    path = WORK / "targets-ours.json"
    WORK.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1))
    return path


def run_harness(
    config: Path, targets: str, workers: int, args: argparse.Namespace, out: Path
) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    sh(
        [
            sys.executable,
            str(SHARED / "run_bench.py"),
            "run",
            "--config",
            str(config),
            "--targets",
            targets,
            "--workers",
            str(workers),
            "--reps",
            str(args.reps),
            "--duration",
            str(args.duration),
            "--warmup",
            str(args.warmup),
            "--out",
            str(out),
        ],
        timeout=3600,
    )
    with (out / "results.jsonl").open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def checkout_python() -> str:
    """The Python of this checkout's virtualenv (``BENCH_INPROCESS_PYTHON`` names another),
    else this one: the benchmarks that import the service run there."""
    python = os.environ.get("BENCH_INPROCESS_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    return python if Path(python).exists() else sys.executable


# -- CPU per request in one process ----------------------------------------------------------


def inprocess(args: argparse.Namespace, out: Path) -> tuple[str, list[tuple[str, bool]]]:
    """bench/inprocess.py in this checkout's virtualenv (its own databases): its table and
    its growth verdicts."""
    python = checkout_python()
    found = out / "inprocess.json"
    reps, requests = (3, 20) if args.quick else (5, 40)
    printed = sh(
        [
            python,
            str(HERE / "inprocess.py"),
            "--reps",
            str(reps),
            "--requests",
            str(requests),
            "--json",
            str(found),
        ],
        timeout=7200,
    )
    verdicts = [(name, bool(met)) for name, met in json.loads(found.read_text())["verdicts"]]
    table = printed.split("\n\n- ", 1)[0].strip()
    return table, verdicts


# -- the server's flags: the default against the best, one process and the ceiling -----------

#: The configs the flags sweep sets beside the default: one process (the "every core" goal's
#: base), the old default, and those with more processes or threads than 2 cores.
FLAG_CONFIGS = "default,1x2,2x2,3x2,2x4,3x4,4x4,4x8"
FLAG_WORKLOADS = ("list200", "list200-page", "count5")


def flags_sweep(args: argparse.Namespace) -> tuple[str, list[tuple[str, bool]]]:
    """bench/reads.py (its own SQLite database, servers and the Flask ceiling for the same
    bytes): how the default flags read against the best config found (within 10 %), against
    one process (every core: 1.7x on 2) and against the ceiling (0.8); its summary and
    those verdicts."""
    from reads_report import medians_of

    work = WORK / "flags"
    shutil.rmtree(work, ignore_errors=True)
    reps = 2 if args.quick else max(3, 2 * args.reps)
    sh(
        [
            checkout_python(),
            str(HERE / "reads.py"),
            "--configs",
            FLAG_CONFIGS,
            "--workloads",
            ",".join(FLAG_WORKLOADS),
            "--reps",
            str(reps),
        ],
        timeout=7200,
        env={"BENCH_WORK": str(work)},
    )
    (found,) = work.glob("reads-*")
    data = json.loads((found / "results.json").read_text())
    rps = medians_of(data["rows"])["rps"]
    default = data["default"]
    verdicts = []
    for workload in FLAG_WORKLOADS:
        mine = rps[(default, workload)]
        best = max(v for (c, w), v in rps.items() if w == workload and not c.startswith("ref"))
        verdicts.append(
            (
                f"flags: the default ({default}) / the best config, {workload}: "
                f"{mine / best:.2f} (≥ 0.9)",
                mine / best >= 0.9,
            )
        )
        if (single := rps.get(("1x2", workload))) and default != "1x2":
            verdicts.append(
                (
                    f"every core: the default / one process (1x2), {workload}: "
                    f"{mine / single:.2f} (≥ 1.7)",
                    mine / single >= 1.7,
                )
            )
        if ceiling := rps.get(("ref", workload)):
            verdicts.append(
                (
                    f"ceiling: the default / a fixed body of the same bytes, {workload}: "
                    f"{mine / ceiling:.2f} (≥ 0.8)",
                    mine / ceiling >= 0.8,
                )
            )
    return (found / "summary.md").read_text().strip(), verdicts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 rep of 5 s, queue at 10^3 and 10^5")
    parser.add_argument("--skip-queue", action="store_true")
    parser.add_argument("--skip-isso", action="store_true", help="measure only us (no ratios)")
    parser.add_argument(
        "--skip-inprocess", action="store_true", help="leave out bench/inprocess.py's CPU counts"
    )
    parser.add_argument(
        "--skip-flags", action="store_true", help="leave out bench/reads.py's flags sweep"
    )
    parser.add_argument(
        "--reuse", metavar="DIR", help="take the throughput part from an earlier run's results"
    )
    args = parser.parse_args()
    if args.quick:
        args.reps, args.duration = 1, 5
    sizes = [1_000, 100_000] if args.quick else [1_000, 1_000_000]
    tag = time.strftime("%Y%m%d-%H%M%S")
    out = HERE / "results" / tag
    out.mkdir(parents=True, exist_ok=True)
    if not Path("/tmp/isso-venv/bin/gunicorn").exists() and not args.skip_isso:
        sh([str(SHARED / "peer_isso.sh"), "setup"], timeout=900)
    sh([str(HERE / "ours.sh"), "setup"], timeout=900)
    config = write_config()
    results: dict[str, Any] = {
        "tag": tag,
        "machine": {"nproc": os.cpu_count(), "uname": os.uname().release},
        "args": vars(args),
        "harness": [],
        "queue": [],
        "memory": [],
    }
    peers = [] if args.skip_isso else ["isso", "isso-guard"]
    for ours, workers, label in (
        ("ours-sqlite", 1, "SQLite ×1"),
        ("ours-pg", 2, "PostgreSQL+Redis ×2"),
    ):
        if args.reuse:
            with (Path(args.reuse) / ours / "results.jsonl").open() as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        else:
            floor = ours.replace("ours-", "floor-")
            records = run_harness(
                config, ",".join([*peers, ours, floor]), workers, args, out / ours
            )
        results["harness"].append(
            {"ours": ours, "workers": workers, "label": label, "records": records}
        )
    if not args.skip_queue:
        results["queue"] += queue_benchmark("sqlite", 1, sizes, args.duration)
        results["queue"] += queue_benchmark("pg", 2, sizes, args.duration)
    results["memory"].append(memory_and_probe("sqlite", 1))
    results["memory"].append(memory_and_probe("pg", 2))
    if not args.skip_inprocess:
        results["inprocess"], results["inprocess_verdicts"] = inprocess(args, out)
    if not args.skip_flags:
        results["flags"], results["flags_verdicts"] = flags_sweep(args)
    text = report(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out / "summary.md").write_text(f"# Benchmark {tag}\n\n{text}\n")
    print(text)
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
