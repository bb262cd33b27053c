#!/usr/bin/env python3
"""Public reads of ``moderation serve`` under different process/thread flags, beside the
Flask ceiling (a fixed body of the same size, ../shared/bench/ref_flask.sh), in one run:
the quiet-machine check of issue 20's read goals.

    .venv/bin/python bench/reads.py [--configs default,1x2,...] [--one-process 1x2]
                                    [--reps 3] [--duration 8] [--ceiling-flags 2x2]
                                    [--workloads list200,list200-page,count5] [--no-ceiling]

A config ``WxT`` is ``moderation serve --workers W --threads T`` (``default``: no flags,
whatever the command chooses: one process per core, 2 threads each). The ceiling ``ref``
is the shared minimal Flask app under the shared gunicorn settings (sync workers, one per
core, ``--preload``) serving pre-serialised bodies of exactly the sizes our answers have;
``ref-WxT`` the same app under the gthread flags of ``--ceiling-flags``. Each rep starts
every server afresh (configs interleaved, so drift hits all alike); every workload gets a
2 s warm-up, then ``wrk -t1 -c16`` for ``--duration`` seconds, while the CPU time of the
server's processes (master and workers, from /proc) is read before and after. The report
gives, per config and workload, the median req/s of the reps with their min-max, the
median p99, each median as a share of the best config and of the ceiling, and the
server's CPU per request with its share of the ceiling's (on a loaded machine the CPU
share still means something when req/s do not). Then the goals: ``default`` against
``--one-process`` (2 cores >= 1.7x one process), against the best config (within 10 %),
and against the ceiling (>= 0.80).

The defaults run all of it (about 25 minutes; ``--reps 1 --duration 2`` checks the
set-up in a few). SQLite, the shared seed data set (bench/seed_ours.py), loopback only.
Needs ``wrk`` and the ceiling's virtualenv (``FLASK_VENV``, made by ``ref_flask.sh
setup``); ``BENCH_SHARED`` names the shared harness when this checkout is not beside it.
Results: ``$BENCH_WORK/reads-<tag>/`` (``results.json``, ``summary.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")).resolve()
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/moderation-bench-reads"))
PORT = int(os.environ.get("READS_PORT", "8095"))
REF_PORT = int(os.environ.get("READS_REF_PORT", "8096"))
FLASK_VENV = os.environ.get("FLASK_VENV", "/tmp/flask-venv")
LEAN_GET = HERE / "wrk" / "get_lean.lua"
THREADS5 = "&".join(f"thread=%2Fbench%2Fpost-{n}" for n in range(1, 6))
WORKLOADS = {
    "list200": "/api/v1/sites/bench/comments?thread=%2Fbench%2Fpost-1",
    "list200-page": "/w/bench?thread=%2Fbench%2Fpost-1",
    "count5": f"/api/v1/sites/bench/counts?{THREADS5}",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "MODERATION_INSTANCE_PATH": str(WORK / "instance"),
        "MODERATION_DATABASE_URL": f"sqlite:///{WORK / 'reads.db'}",
        "MODERATION_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "MODERATION_LOG_LEVEL": "WARNING",
        "MODERATION_TRUSTED_PROXIES": "1",
        "BENCH_SHARED": str(SHARED),
        # the code as it was when the run began (see snapshot_code)
        "PYTHONPATH": str(WORK / "code"),
    }


def snapshot_code() -> None:
    """Copy the package (templates inside, as in a wheel) to ``$BENCH_WORK/code``: every
    server of the run serves the code as it was when the run began, even while the
    checkout changes."""
    target = WORK / "code" / "moderation"
    shutil.rmtree(WORK / "code", ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "moderation", target, ignore=ignore)
    shutil.copytree(ROOT / "templates", target / "templates", ignore=ignore)


def seed() -> None:
    """A fresh database with the shared data set (approved)."""
    shutil.rmtree(WORK / "instance", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{WORK / 'reads.db'}{suffix}").unlink(missing_ok=True)
    (WORK / "instance").mkdir(parents=True, mode=0o700)
    env = server_env()
    subprocess.run(
        [sys.executable, "-m", "moderation", "db", "upgrade"], env=env, check=True, timeout=600
    )
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "import seed_ours\n"
        "app = seed_ours.create_app()\n"
        "with app.app_context(): print('seeded', seed_ours.load_dataset())\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=600)


def wait_for(url: str, process: subprocess.Popen[bytes] | None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode}); see {WORK}/serve.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


class Ours:
    """``moderation serve`` with some flags."""

    def __init__(self, config: str) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        flags = ["--no-deliver"]
        if self.config != "default":
            workers, threads = self.config.split("x")
            flags += ["--workers", workers, "--threads", threads]
        with (WORK / "serve.log").open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moderation", "serve", "--port", str(PORT), *flags],
                env=server_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"http://127.0.0.1:{PORT}/healthz", self.process)

    def url(self, workload: str) -> str:
        return f"http://127.0.0.1:{PORT}{WORKLOADS[workload]}"

    def root_pid(self) -> int:
        """The server's first process (its workers are below it)."""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class Ceiling:
    """The shared minimal Flask app serving fixed bodies of our answers' sizes: under the
    shared gunicorn settings (``ref``: sync workers, one per core), or under the flags of
    one of our configs (``ref-WxT``: the framework's ceiling for that server setup)."""

    def __init__(self, sizes: dict[str, int], flags: str = "") -> None:
        self.sizes = sizes
        self.flags = flags
        self.config = f"ref-{flags}" if flags else "ref"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.flags:
            self._start_with_flags()
            return
        env = {
            **os.environ,
            "BENCH_WORK": str(WORK),
            "FLASK_VENV": FLASK_VENV,
            "REF_FIXED_PORT": str(REF_PORT),
            "REF_FIXED_SIZES": ",".join(str(size) for size in sorted(set(self.sizes.values()))),
        }
        workers = str(len(os.sched_getaffinity(0)))
        subprocess.run(
            [str(SHARED / "ref_flask.sh"), "start", "fixed", workers],
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(SHARED / "ref_flask"),
            "REF_FIXED_SIZES": ",".join(str(size) for size in sorted(set(self.sizes.values()))),
        }

    def _start_with_flags(self) -> None:
        """gunicorn as ``moderation serve`` runs it: gthread, the same workers and threads."""
        workers, threads = self.flags.split("x")
        with (WORK / "ref-flags.log").open("ab") as output:
            self.process = subprocess.Popen(
                [
                    f"{FLASK_VENV}/bin/gunicorn",
                    "-w",
                    workers,
                    "--threads",
                    threads,
                    "-k",
                    "gthread" if int(threads) > 1 else "sync",
                    "--timeout",
                    "30",
                    "--log-level",
                    "warning",
                    "-b",
                    f"127.0.0.1:{REF_PORT}",
                    "app_fixed:app",
                ],
                env=self._environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"http://127.0.0.1:{REF_PORT}/health", self.process)

    def url(self, workload: str) -> str:
        return f"http://127.0.0.1:{REF_PORT}/fixed/{self.sizes[workload]}"

    def root_pid(self) -> int:
        """The gunicorn master (its workers are below it)."""
        if self.process is not None:
            return self.process.pid
        return int((WORK / "ref-fixed.pid").read_text())

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
            return
        subprocess.run(
            [str(SHARED / "ref_flask.sh"), "stop", "fixed"],
            env={**os.environ, "BENCH_WORK": str(WORK)},
            check=False,
            timeout=60,
            capture_output=True,
        )


def tree_cpu_seconds(root: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by ``root`` and every process below it, by
    pid, from /proc (Linux)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, found = {root}, True
    while found:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        found = bool(below)
        tree |= below
    return {pid: used[pid] for pid in tree if pid in used}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at both moments used in between."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def wrk(url: str, seconds: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            "-c16",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(LEAN_GET),
            url,
        ],
        env={**os.environ, "BENCH_SHARED_WRK": str(SHARED / "wrk") + "/"},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line[len("BENCH_JSON ") :])  # type: ignore[no-any-return]


def body_sizes() -> dict[str, int]:
    """The size of each of our answers (the ceiling serves the same number of bytes)."""
    server = Ours("1x1")
    server.start()
    try:
        sizes = {}
        for workload in WORKLOADS:
            with urllib.request.urlopen(server.url(workload), timeout=30) as response:
                sizes[workload] = len(response.read())
        return sizes
    finally:
        server.stop()


def report(rows: list[dict[str, Any]], workloads: list[str], default: str, one_process: str) -> str:
    """The table (medians of the reps), then each goal of issue 20 as measured."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault((row["config"], row["workload"]), []).append(row)
    configs = list(dict.fromkeys(row["config"] for row in rows))
    medians = {key: statistics.median(r["rps"] for r in runs) for key, runs in by.items()}
    cpu = {
        key: statistics.median(r["server_cpu_us"] for r in runs)
        for key, runs in by.items()
        if all("server_cpu_us" in r for r in runs)
    }
    lines = [
        "| config | workload | req/s median | min-max | p99 ms median | of best ours "
        "| of ceiling | server CPU µs/req (min-max) | of ceiling by CPU | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    best: dict[str, tuple[str, float]] = {}
    for workload in workloads:
        ours = [c for c in configs if not c.startswith("ref") and (c, workload) in medians]
        best[workload] = max(
            ((c, medians[(c, workload)]) for c in ours), key=lambda pair: pair[1], default=("", 0)
        )
        ceiling = medians.get(("ref", workload))
        ceiling_cpu = cpu.get(("ref", workload))
        same_flags = {
            c[len("ref-") :]: medians[(c, workload)]
            for c in configs
            if c.startswith("ref-") and (c, workload) in medians
        }
        for config in configs:
            runs = by.get((config, workload))
            if not runs:
                continue
            median = medians[(config, workload)]
            rps = [r["rps"] for r in runs]
            p99 = statistics.median(r["latency_us"]["p99"] for r in runs) / 1000
            non2xx = sum(r["requests"] - r["status"]["2xx"] for r in runs)
            mine = not config.startswith("ref")
            share = f"{median / best[workload][1]:.2f}" if mine and best[workload][1] else ""
            of_ceiling = f"{median / ceiling:.2f}" if ceiling else ""
            if config in same_flags:
                of_ceiling += f" ({median / same_flags[config]:.2f} of ref-{config})"
            used = cpu.get((config, workload))
            cpu_text = cpu_share = ""
            if used is not None:
                spread = [r["server_cpu_us"] for r in runs]
                cpu_text = f"{used:.0f} ({min(spread):.0f}-{max(spread):.0f})"
                cpu_share = f"{ceiling_cpu / used:.2f}" if ceiling_cpu and used else ""
            lines.append(
                f"| {config} | {workload} | {median:.0f} | {min(rps):.0f}-{max(rps):.0f} | "
                f"{p99:.1f} | {share} | {of_ceiling} | {cpu_text} | {cpu_share} | {non2xx} |"
            )
    lines += ["", f"Goals (issue 20), from the medians above; `{default}` is the default flags:"]
    for workload in workloads:
        mine = medians.get((default, workload))
        if mine is None:
            continue
        goals = []
        single = medians.get((one_process, workload))
        if single:
            goals.append(f"{default}/{one_process} {mine / single:.2f}x (goal >= 1.7)")
        if best[workload][1]:
            goals.append(
                f"default/best ({best[workload][0]}) {mine / best[workload][1]:.2f} (goal >= 0.90)"
            )
        ceiling = medians.get(("ref", workload))
        if ceiling:
            goals.append(f"of ceiling {mine / ceiling:.2f} (goal >= 0.80)")
        if cpu.get(("ref", workload)) and cpu.get((default, workload)):
            goals.append(
                f"of ceiling by server CPU {cpu[('ref', workload)] / cpu[(default, workload)]:.2f}"
            )
        lines.append(f"- {workload}: " + "; ".join(goals))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default="default,1x2,1x4,2x1,2x4,2x8,4x2")
    parser.add_argument(
        "--one-process",
        default="1x2",
        help="the config the default's scaling is compared with (2 cores >= 1.7x one process)",
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument(
        "--ceiling-flags",
        default="2x2",
        help="also the ceiling under these WxT flags (gthread, as moderation serve runs it)",
    )
    parser.add_argument("--no-seed", action="store_true", help="reuse the last run's database")
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"reads-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir()
    snapshot_code()
    if not args.no_seed:
        seed()
    sizes = body_sizes()
    log(f"body sizes: {sizes}")
    servers: list[Ours | Ceiling] = [Ours(config) for config in args.configs.split(",")]
    if not args.no_ceiling:
        servers.append(Ceiling(sizes))
        for flags in filter(None, args.ceiling_flags.split(",")):
            servers.append(Ceiling(sizes, flags))
    rows: list[dict[str, Any]] = []
    for rep in range(1, args.reps + 1):
        for server in servers:
            server.start()
            try:
                for workload in workloads:
                    wrk(server.url(workload), 2)  # warm-up
                    before = tree_cpu_seconds(server.root_pid())
                    result = wrk(server.url(workload), args.duration)
                    used = cpu_between(before, tree_cpu_seconds(server.root_pid()))
                    result["server_cpu_us"] = used / max(result["requests"], 1) * 1e6
                    rows.append(
                        {"config": server.config, "workload": workload, "rep": rep, **result}
                    )
                    log(
                        f"rep {rep} {server.config} {workload}: {result['rps']:.0f} req/s, "
                        f"p99 {result['latency_us']['p99'] / 1000:.1f} ms, "
                        f"non-2xx {result['requests'] - result['status']['2xx']}, "
                        f"server CPU {result['server_cpu_us']:.0f} µs/request"
                    )
            finally:
                server.stop()
    summary = report(rows, workloads, "default", args.one_process)
    (out / "results.json").write_text(
        json.dumps({"sizes": sizes, "args": vars(args), "rows": rows}, indent=1)
    )
    (out / "summary.md").write_text(summary + "\n")
    print(summary)
    log(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
