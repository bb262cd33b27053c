"""Memory of a served process (issue 20): start ``moderation serve --workers 1 --no-deliver``
of the venv VENV on PostgreSQL + Redis (a fresh database BENCH_PG_DB, default
moderation_startup; Redis db BENCH_REDIS_DB, default 5, flushed), warm it up with reads,
posts and dashboard pages, then print the worker's and the master's VmRSS and VmHWM (MB) as
JSON.

    python3 bench/serve_rss.py VENV [PORT]
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

VENV = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 8094
DB = os.environ.get("BENCH_PG_DB", "moderation_startup")
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "5")
INSTANCE = f"/tmp/{DB}-instance"
BASE = f"http://127.0.0.1:{PORT}"
env = dict(
    os.environ,
    MODERATION_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}",
    MODERATION_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:6379/{REDIS_DB}",
    MODERATION_INSTANCE_PATH=INSTANCE,
    MODERATION_SECRET_KEY="benchmark-secret-key-not-for-production",  # noqa: S106
    MODERATION_SESSION_COOKIE_SECURE="false",
    MODERATION_LOG_LEVEL="WARNING",
    MODERATION_TRUSTED_PROXIES="1",
    MODERATION_LIMIT_PUBLIC_POSTS_PER_ADDRESS="100000/minute",
)
subprocess.run(
    [
        "psql",
        "-q",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-c",
        f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)",
        "-c",
        f"CREATE DATABASE {DB}",
    ],
    check=True,
)
subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=True, stdout=subprocess.DEVNULL)
os.makedirs(INSTANCE, mode=0o700, exist_ok=True)
server = subprocess.Popen(
    [f"{VENV}/bin/moderation", "serve", "--workers", "1", "--port", str(PORT), "--no-deliver"],
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL,
    text=True,
)
password = None
for line in server.stdout:
    m = re.search(r"password '([^']+)'", line)
    if m:
        password = m.group(1)
    if line.startswith("Serving on"):
        break


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                stat = Path(f"/proc/{p}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(p))
            except OSError:
                pass
    return out


def status(pid):
    d = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            d[k] = int(v.split()[0]) / 1024
    return d


try:
    for _ in range(300):
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=5)
            break
        except Exception:
            time.sleep(0.2)
    worker = children(server.pid)[0]
    started = status(worker)
    thread = "/demo/post-1"
    q = urllib.parse.urlencode({"thread": thread})
    origin = f"http://127.0.0.1:{PORT}"
    for _ in range(20):
        for path in (
            f"/api/v1/sites/demo/comments?{q}",
            f"/w/demo?{q}",
            f"/api/v1/sites/demo/counts?thread={thread}&thread=/demo/post-2",
            "/demo",
        ):
            urllib.request.urlopen(BASE + path, timeout=30).read()
    tokens = [
        json.load(urllib.request.urlopen(f"{BASE}/api/v1/sites/demo/form-token?{q}", timeout=30))[
            "form_token"
        ]
        for _ in range(10)
    ]
    time.sleep(1.2)
    for number, token in enumerate(tokens):
        body = json.dumps(
            {
                "comment": f"Comment number {number} about the post, hello world.",
                "author": f"Reader {number}",
                "email": f"r{number}@example.com",
                "form_token": token,
            }
        ).encode()
        req = urllib.request.Request(
            f"{BASE}/api/v1/sites/demo/comments?{q}",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Origin": origin,
                "X-Forwarded-For": f"10.0.0.{number + 1}",
            },
        )
        try:
            urllib.request.urlopen(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            print("post", e.code, e.read()[:200], file=sys.stderr)
    for _ in range(5):
        urllib.request.urlopen(BASE + f"/api/v1/sites/demo/comments?{q}", timeout=30).read()
    if password:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(BASE + "/dashboard/sign-in").read().decode()
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        opener.open(
            urllib.request.Request(
                BASE + "/dashboard/sign-in",
                data=urllib.parse.urlencode(
                    {"csrf_token": csrf, "username": "admin", "password": password}
                ).encode(),
                headers={"Origin": origin},
            )
        )
        for path in (
            "/dashboard/",
            "/dashboard/counts",
            "/dashboard/audit",
            "/dashboard/sites",
            "/dashboard/statistics",
            "/dashboard/me",
            "/dashboard/moderators",
            "/dashboard/notifications",
        ):
            try:
                opener.open(BASE + path, timeout=30).read()
            except urllib.error.HTTPError as e:
                print(path, e.code, file=sys.stderr)
    else:
        print("no admin password seen", file=sys.stderr)
    warm = status(worker)
    print(
        json.dumps({"worker_started": started, "worker_warm": warm, "master": status(server.pid)})
    )
finally:
    server.terminate()
    server.wait(timeout=30)
