#!/usr/bin/env python3
"""Reads and posts of ``moderation serve`` under different process/thread flags, beside the
Flask ceiling (a fixed body of the same size, ../shared/bench/ref_flask.sh), in one run:
which flags serve the work best, and how far the default is from them (issue 20).

    .venv/bin/python bench/reads.py [--configs default,1x1,...] [--one-process 1x2]
                                    [--reps 3] [--duration 2] [--ceiling-flags 2x2]
                                    [--workloads list200,list200-page,count5,post]
                                    [--no-ceiling]

A config ``WxT`` is ``moderation serve --workers W --threads T``; ``default`` is no flags,
whatever the command chooses (cores + 1 processes): its log line names the flags it
took, and when those are in the sweep the same server stands for both. The workloads:
``list200`` (the 200-comment thread as JSON), ``list200-page`` (its widget page),
``count5`` (counts of 5 threads) and ``post`` (bench/run.py's submission with every check
on: a single-use form token, distinct client addresses and emails, the site's own limit
raised above the load, so no post is refused; one fresh thread and body file per
measurement). The ceiling ``ref`` is the shared minimal Flask app under the shared
gunicorn settings (sync workers, one per core, ``--preload``) serving pre-serialised bodies
of exactly the sizes our read answers have; ``ref-WxT`` the same app under the gthread
flags of ``--ceiling-flags``.

Every server is started once, one after another, on its own port, all on one SQLite
database (the embedded default: rate limits shared through SQLite), warmed (the reads a
few dozen times, posts for 1 s), and left running; then each rep measures every server in
turn, the order rotated from rep to rep, so load from outside falls on every config alike.
Each measurement is ``wrk -t1 -c16`` for ``--duration`` seconds, while the CPU time of the
server's processes (master and workers, from /proc) is read before and after. The report
gives, per config and workload, the median req/s of the reps with their min-max, the
median p99 (min-max), each median as a share of the best config and of the ceiling, and
the server's CPU per request (on a loaded machine the CPU per request still means
something when req/s do not), and how evenly the worker processes shared the work: the
least-loaded worker's share of the workers' CPU time against a fair share, and the most
uneven split of wrk's connections over the workers (bench/worker_shares.py, from /proc;
outside load falls on the workers alike), the CPU wrk itself used per request and the
share of the cores' time nobody used (/proc/stat: on a quiet machine, what a config leaves
idle). Then, per workload, whether the default is within 10 % of the best config (by the
medians' req/s, by its req/s over the best's rep by rep, both measured in the same rep, and
by CPU per request among configs with a process per core), and the config that is best
for all of them together.

The defaults run the sweep (16 configs x 4 workloads x 3 reps of 2 s, about 8 minutes quiet;
``--reps 1 --configs default,1x1`` checks the set-up in one). SQLite, the shared seed data
set (bench/seed_ours.py), loopback only. Needs ``wrk``, and for the ceiling its virtualenv
(``FLASK_VENV``, made by ``ref_flask.sh setup``); ``BENCH_SHARED`` names the shared
harness when this checkout is not beside it. Ports from ``READS_PORT`` (ours, one each)
and ``READS_REF_PORT`` (the ceiling). Results: ``$BENCH_WORK/reads-<tag>/``
(``results.json``, ``summary.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import worker_shares
from reads_report import recommendation, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")).resolve()
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/moderation-bench-reads"))
PORT = int(os.environ.get("READS_PORT", "8095"))
# ours take PORT, PORT + 1, ... (one port per config): the ceiling starts well above them
REF_PORT = int(os.environ.get("READS_REF_PORT", "8190"))
FLASK_VENV = os.environ.get("FLASK_VENV", "/tmp/flask-venv")
LEAN_GET = HERE / "wrk" / "get_lean.lua"
POST_SCRIPT = HERE / "wrk" / "post_prepared.lua"
THREADS5 = "&".join(f"thread=%2Fbench%2Fpost-{n}" for n in range(1, 6))
WORKLOADS = {
    "list200": "/api/v1/sites/bench/comments?thread=%2Fbench%2Fpost-1",
    "list200-page": "/w/bench?thread=%2Fbench%2Fpost-1",
    "count5": f"/api/v1/sites/bench/counts?{THREADS5}",
    # + the thread's key: each measurement posts to its own thread (seed_posts)
    "post": "/api/v1/sites/bench/comments?thread=%2Fbench%2F",
}
READS = ("list200", "list200-page", "count5")
#: Prepared submissions per second of a post measurement (~2x the best rate seen).
POSTS_PER_SECOND = 1000


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
    (WORK / "posts-next").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{WORK / 'reads.db'}{suffix}").unlink(missing_ok=True)
    (WORK / "instance").mkdir(parents=True, mode=0o700)
    env = server_env()
    subprocess.run(
        [sys.executable, "-m", "moderation", "db", "upgrade"],
        env=env,
        cwd=WORK,
        check=True,
        timeout=600,
    )
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
        "import seed_ours\n"
        "app = seed_ours.create_app()\n"
        "with app.app_context(): print('seeded', seed_ours.load_dataset())\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=WORK, check=True, timeout=600)


def seed_posts(plans: list[tuple[str, str, int]]) -> None:
    """Body files for wrk/post_prepared.lua, one per (file name, thread, lines): every
    submission of the run with its own number, so its own client address and email, and a
    form token for its file's thread (single use: a file is sent once)."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r})\n"
        "import os, seed_ours\n"
        "from datetime import UTC, datetime, timedelta\n"
        "issued = datetime.now(UTC) - timedelta(seconds=10)\n"
        "secret = os.environ['MODERATION_SECRET_KEY']\n"
        # numbers (so addresses and emails) never used before on this database: --no-seed
        # keeps the rate limits and comments of the runs before
        f"counter = {str(WORK / 'posts-next')!r}\n"
        "first = int(open(counter).read()) if os.path.exists(counter) else 2_000_000\n"
        "for name, thread, lines in json.load(sys.stdin):\n"
        "    kind = 'warmup' if 'warmup' in thread else 'fresh'\n"
        "    with open(name, 'w') as handle:\n"
        "        for number in range(first, first + lines):\n"
        "            handle.write(seed_ours.submission_line(kind, number, thread, secret, issued))\n"
        "    first += lines\n"
        "open(counter, 'w').write(str(first))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        env=server_env(),
        cwd=WORK,
        input=json.dumps(plans),
        text=True,
        check=True,
        timeout=600,
    )


def wait_for(url: str, process: subprocess.Popen[bytes] | None, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"server exited ({process.returncode}); see its log in {WORK}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then (after 30 s) SIGKILL to the process's group."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Ours:
    """``moderation serve`` with some flags, on its own port."""

    def __init__(self, config: str, port: int) -> None:
        self.config = config
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.log = WORK / f"serve-{config}.log"
        #: per measurement tag: the body file and thread of its posts
        self.posts: dict[str, tuple[Path, str]] = {}

    def start(self) -> None:
        flags = ["--no-deliver"]
        if self.config != "default":
            workers, threads = self.config.split("x")
            flags += ["--workers", workers, "--threads", threads]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moderation", "serve", "--port", str(self.port), *flags],
                env=server_env(),
                cwd=WORK,  # not the checkout: python -m would import the code there first
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"http://127.0.0.1:{self.port}/healthz", self.process)

    def chosen_flags(self) -> str:
        """``WxT`` as the server's own log line gives them ("2 process(es), 2 threads each")."""
        words = next(line for line in self.log.read_text().splitlines() if "process(es)" in line)
        numbers = [word.strip("(),") for word in words.split() if word.strip("(),").isdigit()]
        return f"{numbers[-2]}x{numbers[-1]}"

    def plan_posts(self, tags: list[str], seconds: int) -> list[tuple[str, str, int]]:
        """A body file and a fresh thread for each measurement of posts (and the warm-up)."""
        for tag in tags:
            thread = f"sweep-{self.config}-{tag}"
            self.posts[tag] = (WORK / "posts" / f"{thread}.txt", thread)
        lines = POSTS_PER_SECOND * seconds + 500
        return [(str(path), f"/bench/{thread}", lines) for path, thread in self.posts.values()]

    def url(self, workload: str, tag: str = "") -> str | None:
        path = WORKLOADS[workload]
        if workload == "post":
            path += self.posts[tag][1]
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, workload: str, tag: str) -> tuple[Path, dict[str, str]]:
        """The wrk script of a workload and its environment."""
        if workload == "post":
            return POST_SCRIPT, {"BENCH_BODY_FILE": str(self.posts[tag][0])}
        return LEAN_GET, {}

    def root_pid(self) -> int:
        """The server's first process (its workers are below it)."""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process)


class Ceiling:
    """The shared minimal Flask app serving fixed bodies of our answers' sizes: under the
    shared gunicorn settings (``ref``: sync workers, one per core), or under the flags of
    one of our configs (``ref-WxT``: the framework's ceiling for that server setup)."""

    def __init__(self, sizes: dict[str, int], flags: str = "", port: int = REF_PORT) -> None:
        self.sizes = sizes
        self.flags = flags
        self.port = port
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
            "REF_FIXED_PORT": str(self.port),
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
                    f"127.0.0.1:{self.port}",
                    "app_fixed:app",
                ],
                env=self._environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(f"http://127.0.0.1:{self.port}/health", self.process)

    def url(self, workload: str, tag: str = "") -> str | None:
        """A fixed body of our answer's size (none for posts)."""
        if workload not in self.sizes:
            return None
        return f"http://127.0.0.1:{self.port}/fixed/{self.sizes[workload]}"

    def script(self, workload: str, tag: str) -> tuple[Path, dict[str, str]]:
        return LEAN_GET, {}

    def root_pid(self) -> int:
        """The gunicorn master (its workers are below it)."""
        if self.process is not None:
            return self.process.pid
        return int((WORK / "ref-fixed.pid").read_text())

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
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
    return worker_shares.cpu_seconds(list(worker_shares.process_tree(root)))


def machine_idle() -> tuple[float, float]:
    """Idle and total CPU time of every core so far, in clock ticks (/proc/stat)."""
    ticks = [float(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return ticks[3] + ticks[4], sum(ticks)  # idle + iowait, of user ... steal


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at both moments used in between."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def wrk(
    url: str, seconds: int, script: Path = LEAN_GET, env: dict[str, str] | None = None
) -> dict[str, Any]:
    output = subprocess.run(
        [
            *("wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "10s", "--latency"),
            *("-s", str(script), url),
        ],
        env={**os.environ, "BENCH_SHARED_WRK": str(SHARED / "wrk") + "/", **(env or {})},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line[len("BENCH_JSON ") :])  # type: ignore[no-any-return]


def shares_text(shares: list[float]) -> str:
    return "/".join(f"{share:.2f}" for share in shares) or "-"


def warm_reads(server: Ours | Ceiling, workloads: list[str]) -> None:
    """A few dozen of each read, 16 at a time, so every worker has seen each one."""

    def read(url: str) -> None:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()

    urls = [server.url(w) for w in workloads if w != "post" and server.url(w)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(read, [url for url in urls for _ in range(48) if url]))


def measure(server: Ours | Ceiling, workload: str, seconds: int, tag: str) -> dict[str, Any]:
    """One ``wrk`` run with the server's CPU time read around it, and how it split over the
    worker processes: each one's share of their CPU time, and the connections each held
    half-way through (bench/worker_shares.py)."""
    url = server.url(workload, tag)
    assert url is not None
    script, env = server.script(workload, tag)
    pids = worker_shares.workers(server.root_pid())
    held: list[int] = []
    sample = threading.Timer(
        seconds / 2, lambda: held.extend(worker_shares.connections(pids, server.port))
    )
    before = tree_cpu_seconds(server.root_pid())
    workers_before = worker_shares.cpu_seconds(pids)
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    idle_before = machine_idle()
    sample.start()
    try:
        result = wrk(url, seconds, script, env)
    finally:
        sample.cancel()
        sample.join()
    idle_after = machine_idle()
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = cpu_between(before, tree_cpu_seconds(server.root_pid()))
    result["server_cpu_us"] = used / max(result["requests"], 1) * 1e6
    client = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    result["wrk_cpu_us"] = client / max(result["requests"], 1) * 1e6
    # the cores' time nobody used: on a quiet machine, what a config leaves on the table
    result["machine_idle"] = (idle_after[0] - idle_before[0]) / max(
        idle_after[1] - idle_before[1], 1
    )
    result["worker_cpu_shares"] = worker_shares.cpu_shares(
        workers_before, worker_shares.cpu_seconds(pids)
    )
    result["worker_connections"] = held
    return result


def start_all(args: argparse.Namespace, workloads: list[str], servers: list[Ours | Ceiling]) -> str:
    """Every server up on its own port, one after another (added to ``servers`` as they
    start), and warmed; returns the default's flags."""
    cores = len(os.sched_getaffinity(0))
    configs = list(dict.fromkeys(args.configs.split(",")))
    default = "default"
    for index, config in enumerate(configs):
        server = Ours(config, PORT + index)
        servers.append(server)
        server.start()
        if config == "default":
            default = server.config = server.chosen_flags()
            if default in configs:
                configs.remove(default)  # this server stands for both
        log(f"{server.config} up on port {server.port}")
    ours = [s for s in servers if isinstance(s, Ours)]
    if "post" in workloads:
        tags = ["warmup", *(f"r{rep}" for rep in range(1, args.reps + 1))]
        seed_posts([plan for s in ours for plan in s.plan_posts(tags, args.duration)])
    sizes: dict[str, int] = {}
    for workload in READS:
        with urllib.request.urlopen(ours[0].url(workload) or "", timeout=30) as response:
            sizes[workload] = len(response.read())
    log(f"body sizes: {sizes}")
    if not args.no_ceiling:
        flags = filter(None, args.ceiling_flags.split(","))
        for ceiling in [
            Ceiling(sizes),
            *(Ceiling(sizes, f, REF_PORT + 1 + i) for i, f in enumerate(flags)),
        ]:
            servers.append(ceiling)
            ceiling.start()
    for server in servers:
        warm_reads(server, workloads)
        if "post" in workloads and isinstance(server, Ours):
            wrk(server.url("post", "warmup") or "", 1, *server.script("post", "warmup"))
    log(f"{len(servers)} servers up and warm ({cores} cores)")
    return default


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    grid = ",".join(f"{w}x{t}" for w in (1, 2, 3, 4) for t in (1, 2, 4, 8))
    parser.add_argument("--configs", default=f"default,{grid}")
    parser.add_argument(
        "--one-process",
        default="1x2",
        help="the config the default's scaling is compared with (2 cores >= 1.7x one process)",
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=2)
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument(
        "--ceiling-flags",
        default="",
        help="also the ceiling under these WxT flags (gthread, as moderation serve runs it)",
    )
    parser.add_argument("--no-seed", action="store_true", help="reuse the last run's database")
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "posts").mkdir(exist_ok=True)
    out = WORK / f"reads-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir()
    began = time.monotonic()
    load = os.getloadavg()
    snapshot_code()
    if not args.no_seed:
        seed()
    servers: list[Ours | Ceiling] = []
    try:
        default = start_all(args, workloads, servers)
        rows: list[dict[str, Any]] = []
        for rep in range(1, args.reps + 1):
            # rotate the order: each config takes a different place in each rep
            shift = (rep - 1) * len(servers) // args.reps
            for server in servers[shift:] + servers[:shift]:
                for workload in workloads:
                    if server.url(workload, f"r{rep}") is None:
                        continue
                    result = measure(server, workload, args.duration, f"r{rep}")
                    rows.append(
                        {"config": server.config, "workload": workload, "rep": rep, **result}
                    )
                    log(
                        f"rep {rep} {server.config} {workload}: {result['rps']:.0f} req/s, "
                        f"p99 {result['latency_us']['p99'] / 1000:.1f} ms, "
                        f"non-2xx {result['requests'] - result['status']['2xx']}, "
                        f"server CPU {result['server_cpu_us']:.0f} µs/request, "
                        f"workers' CPU shares {shares_text(result['worker_cpu_shares'])}, "
                        f"connections {'/'.join(map(str, result['worker_connections']))}"
                    )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(WORK / "posts", ignore_errors=True)
    cores = len(os.sched_getaffinity(0))
    summary = "\n".join(
        [
            f"{len(rows)} measurements of wrk -t1 -c16 for {args.duration} s, {args.reps} reps, "
            f"{time.monotonic() - began:.0f} s in all; load average at the start "
            f"{load[0]:.1f}, at the end {os.getloadavg()[0]:.1f} ({cores} cores).",
            "",
            *table(rows, workloads, default),
            "",
            *recommendation(rows, workloads, default, args.one_process, cores),
        ]
    )
    (out / "results.json").write_text(
        json.dumps({"default": default, "args": vars(args), "rows": rows}, indent=1)
    )
    (out / "summary.md").write_text(summary + "\n")
    print(summary)
    log(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
