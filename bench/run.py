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
then prints the tables (req/s as the median of the reps with their min-max, p99 beside
every throughput) and each goal met or not, and writes them to bench/results/<tag>/.

Everything runs on 127.0.0.1; PostgreSQL and Redis must be up (scripts/services.sh).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")).resolve()
WORK = Path(os.environ.setdefault("BENCH_WORK", "/tmp/moderation-bench"))
os.environ.setdefault("BENCH_SHARED_WRK", str(SHARED / "wrk") + "/")
PORT = int(os.environ.get("OURS_PORT", "8084"))
BASE = f"http://127.0.0.1:{PORT}"
# GET without copying each body into Lua: the shared get.lua's status counting made the
# client, not the server, the limit for 100-200 KB answers
LEAN_GET = str(HERE / "wrk" / "get_lean.lua")
THREADS5 = "&".join(f"thread=%2Fbench%2Fpost-{n}" for n in range(1, 6))
THREADS100 = "&".join(f"thread=%2Fbench%2Fcount-{n}" for n in range(100))

GOALS = {
    "list200": 200.0,  # our req/s / Isso's
    "count5": 2.0,
    "post-guard-on": 2.0,
    "post-guard-off": 2.0,
    "growth-page": 1.2,  # first page latency of the 10,000-comment thread / the 200's, at most
    "growth-counts": 2.0,  # counts of 100 threads / of 5, latency, at most
    "queue-ratio": 1.5,  # first queue page latency at 10^6 / at 10^3, at most
    "rss-mb": 100.0,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sh(command: list[str] | str, timeout: float = 1800, env: dict[str, str] | None = None) -> str:
    log("$ " + (command if isinstance(command, str) else " ".join(command)))
    result = subprocess.run(
        command,
        shell=isinstance(command, str),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"command failed ({result.returncode}): {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


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


def summary(records: list[dict[str, Any]], name: str, workload: str) -> dict[str, float] | None:
    """The reps of one target's workload: median req/s with min-max, median p50 and p99,
    median server CPU per request, non-2xx answers over all reps."""
    rows = [r for r in records if r["target"] == name and r["workload"] == workload]
    if not rows:
        return None
    rps = [r["result"]["rps"] for r in rows]
    cpu = [
        1000 * r["server_cpu_s"] / r["result"]["requests"]
        for r in rows
        if r.get("server_cpu_s") is not None and r["result"]["requests"]
    ]
    return {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50": statistics.median(r["result"]["latency_us"]["p50"] for r in rows) / 1000,
        "p99": statistics.median(r["result"]["latency_us"]["p99"] for r in rows) / 1000,
        "cpu_ms": statistics.median(cpu) if cpu else float("nan"),
        "reps": len(rows),
        "non2xx": sum(r["result"]["requests"] - r["result"]["status"]["2xx"] for r in rows),
        "5xx": sum(r["result"]["status"].get("5xx", 0) for r in rows),
        "lost": sum(r.get("verify", {}).get("lost_writes", 0) for r in rows),
    }


def rps_cell(found: dict[str, float] | None) -> str:
    """``median (min-max)`` req/s."""
    if not found:
        return "-"
    return f"{found['rps']:.1f} ({found['rps_min']:.0f}-{found['rps_max']:.0f})"


def latency_cell(found: dict[str, float] | None) -> str:
    """``p50 / p99`` ms."""
    return "-" if not found else f"{found['p50']:.1f} / {found['p99']:.1f}"


# -- the queue page ---------------------------------------------------------------------------


def sign_in_cookie() -> str:
    """Sign the benchmark moderator in and return the session cookie header."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page = opener.open(f"{BASE}/dashboard/sign-in", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    data = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "username": "queue-reader",
            "password": "correct horse battery staple 9",
        }
    ).encode()
    opener.open(f"{BASE}/dashboard/sign-in", data=data, timeout=30)
    jar = next(
        h for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)
    ).cookiejar
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk_get(url: str, seconds: int, headers: list[str] | None = None) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        "-c16",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(SHARED / "wrk" / "get.lua"),
        url,
    ]
    for header in headers or []:
        command[1:1] = ["-H", header]
    output = sh(command, timeout=seconds + 60)
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line[len("BENCH_JSON ") :])


def queue_benchmark(
    backend: str, workers: int, sizes: list[int], seconds: int
) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        sh([str(HERE / "ours.sh"), "stop"])
        sh([str(HERE / "ours.sh"), "start", backend, str(workers)])
        try:
            started = time.time()
            sh([str(HERE / "ours.sh"), "queue", backend, str(size)], timeout=3600)
            log(f"queue seed {size} on {backend}: {time.time() - started:.0f} s")
            cookie = sign_in_cookie()
            url = f"{BASE}/dashboard/"
            status = urllib.request.urlopen(
                urllib.request.Request(url, headers={"Cookie": cookie}), timeout=30
            ).status
            assert status == 200
            wrk_get(url, 2, [f"Cookie: {cookie}"])  # warm-up
            result = wrk_get(url, seconds, [f"Cookie: {cookie}"])
            rows.append(
                {
                    "backend": backend,
                    "workers": workers,
                    "comments": size,
                    "rps": result["rps"],
                    "p50": result["latency_us"]["p50"] / 1000,
                    "p99": result["latency_us"]["p99"] / 1000,
                    "non2xx": result["requests"] - result["status"]["2xx"],
                }
            )
            log(f"queue {backend} {size}: {rows[-1]}")
        finally:
            sh([str(HERE / "ours.sh"), "stop"])
    return rows


# -- memory and correctness --------------------------------------------------------------------


def rss_of_server() -> list[float]:
    pid = int((WORK / "ours.pid").read_text())
    pids = [pid] + [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid]
    sizes = []
    for process in pids:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def memory_and_probe(backend: str, workers: int) -> dict[str, Any]:
    """Load every endpoint, then read RSS; then race concurrent first comments on fresh threads."""
    run = f"mem-{backend}"
    sh([str(HERE / "ours.sh"), "stop"])
    sh([str(HERE / "ours.sh"), "start", backend, str(workers)])
    try:
        sh([str(HERE / "ours.sh"), "seed", backend, run])
        for path in (
            "/api/v1/sites/bench/comments?thread=%2Fbench%2Fpost-1",
            "/w/bench?thread=%2Fbench%2Fpost-1",
            f"/api/v1/sites/bench/counts?{THREADS5}",
        ):
            wrk_get(BASE + path, 3)
        sh(
            [
                "wrk",
                "-t1",
                "-c16",
                "-d3s",
                "-s",
                str(HERE / "wrk" / "post_prepared.lua"),
                f"{BASE}/api/v1/sites/bench/comments?thread=%2Fbench%2Ffresh-{run}",
            ],
            env={
                "BENCH_BODY_FILE": str(WORK / f"ours-posts-{run}.txt"),
                "BENCH_SHARED_WRK": str(SHARED / "wrk") + "/",
            },
        )
        rss = rss_of_server()
        probe = write_probe(backend)
        return {
            "backend": backend,
            "workers": workers,
            "rss_mb": [round(size, 1) for size in rss],
            "probe": probe,
        }
    finally:
        sh([str(HERE / "ours.sh"), "stop"])


def write_probe(
    backend: str, threads: int = 20, concurrency: int = 16, per_client: int = 4
) -> dict[str, Any]:
    """Like the shared write_probe.py, through our JSON API with tokens: every answer must
    describe its own request's comment, ids must be unique, rows must equal 2xx answers."""
    tag = time.strftime("%H%M%S")
    jobs = []
    for thread in range(threads):
        key = f"/bench/probe-{tag}-{thread}"
        for client in range(concurrency):
            for number in range(per_client):
                marker = f"probe-{tag}-{thread}-{client}-{number}"
                query = urllib.parse.urlencode({"thread": key})
                token = json.loads(
                    urllib.request.urlopen(
                        f"{BASE}/api/v1/sites/bench/form-token?{query}", timeout=30
                    ).read()
                )["form_token"]
                jobs.append((thread, client, key, marker, token))
    time.sleep(3.5)  # the tokens must be older than a person's typing time
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    ids: Counter[int] = Counter()
    per_thread: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)

    def client_work(client: int) -> None:
        mine = [job for job in jobs if job[1] == client]
        barrier.wait()
        for thread, _, key, marker, token in mine:
            body = json.dumps(
                {
                    "comment": f"Probe {marker}",
                    "author": f"Prober {client}",
                    "email": f"{marker}@probe.example.com",
                    "form_token": token,
                }
            )
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            try:
                connection.request(
                    "POST",
                    f"/api/v1/sites/bench/comments?{urllib.parse.urlencode({'thread': key})}",
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "Origin": "http://127.0.0.1:8084",
                        "X-Forwarded-For": f"10.200.{thread}.{client * 4 + 1}",
                    },
                )
                response = connection.getresponse()
                text = response.read().decode()
            finally:
                connection.close()
            with lock:
                statuses[response.status] += 1
                if 200 <= response.status < 300:
                    answer = json.loads(text)
                    ids[answer["id"]] += 1
                    per_thread[key] += 1
                    if marker not in answer["html"] or answer["author"] != f"Prober {client}":
                        wrong.append(marker)

    workers = [
        threading.Thread(target=client_work, args=(client,)) for client in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    mismatched_threads = 0
    for key, acked in per_thread.items():
        rows = json.loads(
            sh([str(HERE / "ours.sh"), "rows", backend, key]).strip().splitlines()[-1]
        )["rows"]
        mismatched_threads += rows != acked
    return {
        "requests": len(jobs),
        "status": dict(statuses),
        "wrong_answers": len(wrong),
        "duplicate_ids": sum(1 for count in ids.values() if count > 1),
        "threads_rows_ne_2xx": mismatched_threads,
    }


# -- CPU per request in one process ----------------------------------------------------------


def inprocess(args: argparse.Namespace, out: Path) -> tuple[str, list[tuple[str, bool]]]:
    """bench/inprocess.py in this checkout's virtualenv (its own databases): its table and
    its growth verdicts."""
    python = os.environ.get("BENCH_INPROCESS_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    if not Path(python).exists():
        python = sys.executable
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


# -- report ------------------------------------------------------------------------------------


def paired_ratios(
    records: list[dict[str, Any]], top: tuple[str, str], bottom: tuple[str, str]
) -> list[float]:
    """req/s of ``top`` (target, workload) over ``bottom``'s, one ratio per repetition
    (the harness runs every target once per repetition, so a pair shares its moment)."""

    def by_rep(target: str, workload: str) -> dict[int, float]:
        return {
            r["rep"]: r["result"]["rps"]
            for r in records
            if r["target"] == target and r["workload"] == workload
        }

    upper, lower = by_rep(*top), by_rep(*bottom)
    return [upper[rep] / lower[rep] for rep in sorted(upper) if lower.get(rep)]


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"  # nan: "-"


def ratio_cell(values: list[float]) -> str:
    """``median (min-max)`` of per-repetition ratios."""
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(results: dict[str, Any]) -> str:
    lines = [
        "## Throughput (wrk -t1 -c16)",
        "",
        "req/s: median of the reps (min-max); p50 / p99: medians of the reps; ours / Isso: the",
        "median (min-max) of the per-rep ratios (each rep measures both in the same cycle);",
        "CPU: the server processes' CPU per request (not the database's).",
        "",
        "| setup | workload | ours req/s | ours p50 / p99 ms | ours CPU ms/req | Isso req/s | Isso p50 / p99 ms | Isso CPU ms/req | ours / Isso | goal | non-2xx (ours) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    verdicts = []
    for setup in results["harness"]:
        records, name, label = setup["records"], setup["ours"], setup["label"]
        comparisons = [
            ("list200", "list200", "isso", GOALS["list200"]),
            ("list200-page", "list200", "isso", GOALS["list200"]),
            ("count5", "count5", "isso", GOALS["count5"]),
            ("post", "post-guard", "isso-guard", GOALS["post-guard-on"]),
            ("post", "post", "isso", GOALS["post-guard-off"]),
        ]
        for ours_id, peer_id, peer_target, goal in comparisons:
            ours = summary(records, name, ours_id)
            peer = summary(records, peer_target, peer_id)
            values = paired_ratios(records, (name, ours_id), (peer_target, peer_id))
            met = bool(values) and statistics.median(values) >= goal
            verdicts.append((f"{label} {ours_id} vs {peer_target} {peer_id} ≥ {goal:g}", met))
            lines.append(
                f"| {label} | {ours_id} vs {peer_target}:{peer_id} | {rps_cell(ours)} | "
                f"{latency_cell(ours)} | {fmt(ours and ours['cpu_ms'])} | {rps_cell(peer)} | "
                f"{latency_cell(peer)} | {fmt(peer and peer['cpu_ms'])} | {ratio_cell(values)} | "
                f"≥ {goal:g} {'met' if met else 'NOT met'} | {ours['non2xx'] if ours else '-'} |"
            )
    lines += [
        "",
        "## Posts: the Flask floor (same run)",
        "",
        "bench/floor/app.py under the same gunicorn flags: a Flask + Flask-SQLAlchemy app that",
        "checks presence, finds or creates the thread, INSERTs the comment and COMMITs, with",
        "none of our checks. floor / Isso: the most any Flask service on this database reaches",
        "here against Isso with its guard off; ours / floor: what our checks cost.",
        "",
        "| setup | floor req/s | floor p50 / p99 ms | floor CPU ms/req | floor / Isso | ours / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for setup in results["harness"]:
        records, name, label = setup["records"], setup["ours"], setup["label"]
        floor_name = name.replace("ours-", "floor-")
        floor = summary(records, floor_name, "post")
        if floor is None:
            continue
        to_isso = paired_ratios(records, (floor_name, "post"), ("isso", "post"))
        ours_to_floor = paired_ratios(records, (name, "post"), (floor_name, "post"))
        lines.append(
            f"| {label} | {rps_cell(floor)} | {latency_cell(floor)} | {fmt(floor['cpu_ms'])} | "
            f"{ratio_cell(to_isso)} | {ratio_cell(ours_to_floor)} |"
        )
    lines += [
        "",
        "## Growth (ours alone, same run)",
        "",
        "Latency ratio = the inverse of the req/s ratio at the same concurrency: the first page",
        "of the 10,000-comment thread over the 200's (pages of 50 top-level comments), counts",
        "of 100 threads over counts of 5; median (min-max) of the per-rep ratios.",
        "",
        "| setup | workload | req/s | p50 / p99 ms | CPU ms/req | latency ratio | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for setup in results["harness"]:
        records, name, label = setup["records"], setup["ours"], setup["label"]
        for small, large, goal in (
            ("first-page-200", "first-page-10000", GOALS["growth-page"]),
            ("count5", "count100", GOALS["growth-counts"]),
        ):
            # at the same concurrency, latency(large) / latency(small) = req/s(small) / req/s(large)
            values = paired_ratios(records, (name, small), (name, large))
            met = bool(values) and statistics.median(values) <= goal
            verdicts.append((f"{label} {large} / {small} latency ≤ {goal:g}", met))
            for workload in (small, large):
                found = summary(records, name, workload)
                verdict = f"≤ {goal:g} {'met' if met else 'NOT met'}" if workload == large else ""
                lines.append(
                    f"| {label} | {workload} | {rps_cell(found)} | {latency_cell(found)} | "
                    f"{fmt(found and found['cpu_ms'])} | "
                    f"{ratio_cell(values) if workload == large else ''} | {verdict} |"
                )
    lines += [
        "",
        "## Dashboard: first queue page",
        "",
        "| setup | comments | req/s | p50 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in results.get("queue", []):
        lines.append(
            f"| {row['backend']} ×{row['workers']} | {row['comments']:,} | {row['rps']:.1f} | {row['p50']:.1f} | "
            f"{row['p99']:.1f} | {row['non2xx']} |"
        )
    for backend in {row["backend"] for row in results.get("queue", [])}:
        rows = sorted(
            (r for r in results["queue"] if r["backend"] == backend), key=lambda r: r["comments"]
        )
        if len(rows) >= 2:
            value = rows[-1]["p50"] / rows[0]["p50"]
            met = value <= GOALS["queue-ratio"]
            verdicts.append((f"queue p50 at 10^6 / 10^3 on {backend}: {value:.2f}", met))
            lines.append(
                f"\np50 at {rows[-1]['comments']:,} / at {rows[0]['comments']:,} on {backend}: **{value:.2f}** "
                f"(goal ≤ {GOALS['queue-ratio']:g}: {'met' if met else 'NOT met'})"
            )
    lines += [
        "",
        "## Memory and correctness under concurrency",
        "",
        "| setup | RSS per process (MB) | probe requests | statuses | wrong answers | duplicate ids | threads with rows ≠ 2xx |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for row in results.get("memory", []):
        probe = row["probe"]
        lines.append(
            f"| {row['backend']} ×{row['workers']} | {', '.join(map(str, row['rss_mb']))} | {probe['requests']} | "
            f"{probe['status']} | {probe['wrong_answers']} | {probe['duplicate_ids']} | {probe['threads_rows_ne_2xx']} |"
        )
        verdicts.append(
            (
                f"{row['backend']} RSS ≤ {GOALS['rss-mb']:g} MB",
                max(row["rss_mb"]) <= GOALS["rss-mb"],
            )
        )
        verdicts.append(
            (
                f"{row['backend']} zero wrong answers and 5xx",
                probe["wrong_answers"] == 0
                and not any(code >= 500 for code in map(int, probe["status"])),
            )
        )
    if results.get("inprocess"):
        lines += ["", "## CPU and statements per request, in one process", "", results["inprocess"]]
        verdicts += [(name, met) for name, met in results.get("inprocess_verdicts", [])]
    lines += ["", "## Goals", ""] + [
        f"- {'met' if met else 'NOT met'}: {name}" for name, met in verdicts
    ]
    return "\n".join(lines)


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
    text = report(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out / "summary.md").write_text(f"# Benchmark {tag}\n\n{text}\n")
    print(text)
    log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
