#!/usr/bin/env python3
"""Where a request's time goes under each process/thread choice of ``moderation serve``,
in numbers a loaded machine does not bend much (issue 20: why more threads or processes
than cores read faster).

    .venv/bin/python bench/flags_cost.py [--configs 1x1,1x2,2x2,3x2,2x4,3x4,4x8]
                                         [--workloads list200,count5] [--reps 3]
                                         [--duration 3] [--syscalls]

The servers are bench/reads.py's (``moderation serve --workers W --threads T``, the shared
seed data set on SQLite, each on its own port, warmed, measured in turn with the order
rotated each rep; ``wrk -t1 -c16``). Around each measurement it reads, per request, from
the kernel's accounting (/proc): the CPU of the server's workers split into user and
system time and into the gthread worker's **main thread** (its accept/keep-alive loop:
``epoll_wait``, handing a readable connection to the pool, taking it back when the
answer is written) and its **pool threads** (parsing, the app, writing the answer); the
voluntary context switches (a thread going to sleep: on the GIL, the pool's queue, the
poller) and the involuntary ones (preempted); the CPU of ``wrk`` itself (it shares the two
cores). With ``--syscalls``, ``perf stat`` counts the workers' system calls and scheduler
wake-ups in the same window (tracepoints; no hardware counters are needed).

What this gives on a loaded machine: costs per request (CPU, switches, system calls) that
depend on the code path, not on how much CPU the neighbours leave. What it cannot give:
the idle time a quiet machine would show; the req/s printed are for the record only.
Results: ``$BENCH_WORK/flags-cost-<tag>.json`` and the table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import reads
import worker_shares

SYSCALL_EVENTS = [
    "raw_syscalls:sys_enter",
    "syscalls:sys_enter_futex",
    "syscalls:sys_enter_epoll_wait",
    "syscalls:sys_enter_epoll_ctl",
    "syscalls:sys_enter_recvfrom",
    "syscalls:sys_enter_sendto",
    "syscalls:sys_enter_write",
    "syscalls:sys_enter_read",
    "sched:sched_wakeup",
    "sched:sched_switch",
]


def machine_idle() -> tuple[float, float]:
    """Idle and total jiffies of every core so far (/proc/stat)."""
    fields = [float(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; up to steal


def thread_counters(pids: list[int]) -> dict[tuple[int, int], dict[str, float]]:
    """Per (worker pid, thread id): user and system CPU seconds, voluntary and involuntary
    context switches so far."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[tuple[int, int], dict[str, float]] = {}
    for pid in pids:
        try:
            tids = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:
            continue
        for tid in tids:
            base = Path(f"/proc/{pid}/task/{tid}")
            try:
                fields = (base / "stat").read_text().rpartition(")")[2].split()
                status = (base / "status").read_text().splitlines()
            except OSError:
                continue
            switches = {
                key: float(value)
                for key, _, value in (line.partition(":\t") for line in status)
                if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
            }
            found[(pid, tid)] = {
                "user": int(fields[11]) / tick,
                "system": int(fields[12]) / tick,
                "voluntary": switches["voluntary_ctxt_switches"],
                "involuntary": switches["nonvoluntary_ctxt_switches"],
            }
    return found


def spent(
    before: dict[tuple[int, int], dict[str, float]],
    after: dict[tuple[int, int], dict[str, float]],
) -> dict[str, float]:
    """Totals in between, the main threads' (thread id = pid) apart from the pools'."""
    totals: dict[str, float] = {}
    for key in before.keys() & after.keys():
        where = "main" if key[0] == key[1] else "pool"
        for name, value in after[key].items():
            change = value - before[key][name]
            totals[name] = totals.get(name, 0.0) + change
            totals[f"{where}_{name}"] = totals.get(f"{where}_{name}", 0.0) + change
    return totals


def perf_stat(pids: list[int], output: Path) -> subprocess.Popen[bytes]:
    """``perf stat`` on the workers (every thread) until it is sent SIGINT."""
    return subprocess.Popen(
        [
            *("perf", "stat", "-x", ",", "-o", str(output)),
            *("-e", ",".join(SYSCALL_EVENTS)),
            *("-p", ",".join(map(str, pids))),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def perf_counts(output: Path) -> dict[str, float]:
    counts = {}
    for line in output.read_text().splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].replace(".", "").isdigit():
            counts[fields[2].rpartition(":")[2]] = float(fields[0])
    return counts


def measure(
    server: reads.Ours, workload: str, seconds: int, tag: str, syscalls: bool
) -> dict[str, Any]:
    """One ``wrk`` run, with the workers' per-thread counters and wrk's own CPU around it."""
    pids = worker_shares.workers(server.root_pid()) or [server.root_pid()]
    script, env = server.script(workload, tag)
    counting = perf_stat(pids, reads.WORK / "perf-stat.txt") if syscalls else None
    if counting is not None:
        time.sleep(0.3)  # attached before the load starts
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = thread_counters(pids)
    idle_before = machine_idle()
    result = reads.wrk(server.url(workload, tag) or "", seconds, script, env)
    idle_after = machine_idle()
    after = thread_counters(pids)
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = max(result["requests"], 1)
    per_request = {
        name: value / requests * (1e6 if "user" in name or "system" in name else 1)
        for name, value in spent(before, after).items()
    }
    if counting is not None:
        counting.send_signal(2)
        counting.wait(timeout=30)
        for name, value in perf_counts(reads.WORK / "perf-stat.txt").items():
            per_request[name] = value / requests  # the window is a little wider than wrk's
    wrk_cpu = (wrk_after.ru_utime - wrk_before.ru_utime) + (
        wrk_after.ru_stime - wrk_before.ru_stime
    )
    return {
        "rps": result["rps"],
        "p99_ms": result["latency_us"]["p99"] / 1000,
        "non2xx": result["requests"] - result["status"]["2xx"],
        "wrk_us": wrk_cpu / requests * 1e6,
        "idle": (idle_after[0] - idle_before[0]) / max(idle_after[1] - idle_before[1], 1),
        **per_request,
    }


COLUMNS = [
    ("CPU µs", lambda r: r["user"] + r["system"]),
    ("user", lambda r: r["user"]),
    ("sys", lambda r: r["system"]),
    ("main thread", lambda r: r["main_user"] + r["main_system"]),
    ("pool", lambda r: r["pool_user"] + r["pool_system"]),
    ("vol. switches", lambda r: r["voluntary"]),
    ("invol.", lambda r: r["involuntary"]),
    ("wrk µs", lambda r: r["wrk_us"]),
    ("idle %", lambda r: 100 * r["idle"]),
]
SYSCALL_COLUMNS = [
    ("syscalls", "sys_enter"),
    ("futex", "sys_enter_futex"),
    ("epoll_wait", "sys_enter_epoll_wait"),
    ("epoll_ctl", "sys_enter_epoll_ctl"),
    ("recvfrom", "sys_enter_recvfrom"),
    ("sendto", "sys_enter_sendto"),
    ("write", "sys_enter_write"),
    ("read", "sys_enter_read"),
    ("wake-ups", "sched_wakeup"),
    ("switches", "sched_switch"),
]


def report(rows: list[dict[str, Any]], workloads: list[str], syscalls: bool) -> list[str]:
    """Per workload and config: medians of the reps (min-max for the CPU)."""
    columns = list(COLUMNS)
    if syscalls:
        columns += [
            (title, lambda r, key=key: r.get(key, float("nan"))) for title, key in SYSCALL_COLUMNS
        ]
    lines = []
    for workload in workloads:
        lines += [
            f"### {workload} (per request; medians of the reps)",
            "",
            "| config | req/s | " + " | ".join(title for title, _ in columns) + " |",
            "|---|---:|" + "---:|" * len(columns),
        ]
        configs = dict.fromkeys(r["config"] for r in rows if r["workload"] == workload)
        for config in configs:
            runs = [r for r in rows if r["config"] == config and r["workload"] == workload]
            cells = [f"{statistics.median(r['rps'] for r in runs):.0f}"]
            for title, value in columns:
                values = [value(r) for r in runs]
                cell = f"{statistics.median(values):.{0 if 'µs' in title else 1}f}"
                if title == "CPU µs":
                    cell += f" ({min(values):.0f}-{max(values):.0f})"
                cells.append(cell)
            lines.append(f"| {config} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", default="1x1,1x2,2x2,3x2,2x4,3x4,4x8")
    parser.add_argument("--workloads", default="list200,count5")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--syscalls", action="store_true", help="count system calls (perf)")
    parser.add_argument("--no-seed", action="store_true", help="reuse the last run's database")
    args = parser.parse_args()
    workloads = args.workloads.split(",")
    reads.WORK.mkdir(parents=True, exist_ok=True)
    (reads.WORK / "posts").mkdir(exist_ok=True)
    load = os.getloadavg()
    reads.snapshot_code()
    if not args.no_seed:
        reads.seed()
    servers: list[reads.Ours] = []
    rows: list[dict[str, Any]] = []
    try:
        for index, config in enumerate(args.configs.split(",")):
            server = reads.Ours(config, reads.PORT + index)
            servers.append(server)
            server.start()
        if "post" in workloads:
            tags = ["warmup", *(f"r{rep}" for rep in range(1, args.reps + 1))]
            reads.seed_posts([p for s in servers for p in s.plan_posts(tags, args.duration)])
        for server in servers:
            reads.warm_reads(server, workloads)
            if "post" in workloads:
                reads.wrk(server.url("post", "warmup") or "", 1, *server.script("post", "warmup"))
        for rep in range(1, args.reps + 1):
            shift = (rep - 1) * len(servers) // args.reps
            for server in servers[shift:] + servers[:shift]:
                for workload in workloads:
                    row = measure(server, workload, args.duration, f"r{rep}", args.syscalls)
                    rows.append({"config": server.config, "workload": workload, "rep": rep, **row})
                    reads.log(
                        f"rep {rep} {server.config} {workload}: {row['rps']:.0f} req/s, CPU "
                        f"{row['user'] + row['system']:.0f} µs (main "
                        f"{row['main_user'] + row['main_system']:.0f}), "
                        f"{row['voluntary']:.1f} voluntary switches per request"
                    )
    finally:
        for server in servers:
            server.stop()
    tag = time.strftime("%Y%m%d-%H%M%S")
    (reads.WORK / f"flags-cost-{tag}.json").write_text(json.dumps(rows, indent=1))
    print(
        f"wrk -t1 -c16, {args.duration} s x {args.reps} reps; load average "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print("\n".join(report(rows, workloads, args.syscalls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
