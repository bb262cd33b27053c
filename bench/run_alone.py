"""The parts of bench/run.py that measure this service alone: the dashboard's first queue
page at two sizes, the resident memory of every server process after load, and a
concurrent-write correctness probe through the JSON API."""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from run_env import BASE, HERE, PORT, SHARED, THREADS5, WORK, log, sh


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
