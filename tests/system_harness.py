"""The system suite's harness: real ``moderation serve`` processes, private PostgreSQL and
Redis instances that a test may stop, a load of concurrent clients, and the ledger that
proves afterwards, from the database, that nothing was lost, doubled or misattributed.

Every test run runs each scenario once at ``QUICK`` scale (a few seconds of load, each fault
striking once). Each scenario also has a ``soak`` variant (marked ``soak``, left out unless
``-m`` names it; ``scripts/soak.sh`` runs them) at ``SOAK`` scale, set through these
environment variables:

- ``SOAK_CLIENTS``: concurrent clients (threads), default 32
- ``SOAK_SECONDS``: length of each load run, default 300
- ``SOAK_FAULT_SECONDS``: length of each fault run, default 240
- ``SOAK_FAULT_CYCLES``: how many times each fault strikes during a fault run, default 8
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text

from tests.databases import uses_server_database
from tests.helpers import Actions
from tests.servers import ServerProcess, free_port, service_app, start_server

ORIGIN = "https://blog.example"
SITE = "blog"
TRACEBACK = "Traceback (most recent call last)"
LOCKED = "database is locked"

#: The suite starts its own PostgreSQL and Redis and uses SQLite files of its own, so the
#: database the whole run is pointed at changes nothing for it: CI runs it once, in the
#: SQLite pass, not again in the PostgreSQL pass.
ONCE_PER_CI = pytest.mark.skipif(
    uses_server_database(),
    reason="system suite: starts its own PostgreSQL, Redis and SQLite; runs in the SQLite pass",
)


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class Scale:
    """How big the runs are: short in every test run, long in the soak."""

    clients: int
    load_seconds: float
    fault_seconds: float
    fault_cycles: int

    @classmethod
    def from_environment(cls) -> Scale:
        return cls(
            clients=max(1, int(_number("SOAK_CLIENTS", 32))),
            load_seconds=max(1.0, _number("SOAK_SECONDS", 300)),
            fault_seconds=max(6.0, _number("SOAK_FAULT_SECONDS", 240)),
            fault_cycles=max(1, int(_number("SOAK_FAULT_CYCLES", 8))),
        )


#: Every test run: 32 clients for a few seconds, each fault striking once. Long enough for
#: hundreds of requests around each fault (the servers are saturated from the first
#: second: a longer run adds requests, not another kind of moment); the checks are the same
#: as the soak's.
QUICK = Scale(clients=32, load_seconds=2.5, fault_seconds=3.0, fault_cycles=1)
#: ``scripts/soak.sh`` (``-m soak``): the same scenarios, longer and repeated.
SOAK = Scale.from_environment()
#: Parametrize a scenario with both: ``quick`` runs in every test run, ``soak`` only when
#: asked for (tests/conftest.py leaves ``soak`` tests out unless ``-m`` names the mark).
SCALES = [
    pytest.param(QUICK, id="quick"),
    pytest.param(SOAK, id="soak", marks=pytest.mark.soak),
]


# -- private PostgreSQL and Redis ----------------------------------------------------------


def postgres_bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` live (Debian keeps them out of PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if (candidate.parent / "pg_ctl").exists():
            return candidate.parent
    pytest.fail(
        "the system suite needs PostgreSQL's initdb and pg_ctl (apt-get install postgresql)"
    )


class PrivatePostgres:
    """A PostgreSQL cluster of one test's own, on a free port: it may be stopped and started
    without disturbing anyone else's database."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="pgsys-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, user="postgres")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{self.log_text()}"
            )

    def init(self) -> PrivatePostgres:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
            "start",
        )  # fmt: skip

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is back at once."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-m", "fast",
            "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        """Stop at once (kill the postmaster if pg_ctl cannot), then delete the cluster."""
        try:
            if self.running():
                try:
                    self.stop("immediate")
                except Exception:
                    self._kill_postmaster()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        with suppress(OSError, ValueError, IndexError):
            pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.close()


class PrivateRedis:
    """A redis-server of one test's own; stopping it and starting it again keeps the port."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("the system suite needs redis-server (apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(Exception), self._client() as client:
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def key_count(self) -> int:
        with self._client() as client:
            return int(client.dbsize())


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- server processes ----------------------------------------------------------------------


def server_env(instance: Path, database_url: str, storage: str, **settings: str) -> dict[str, str]:
    """Everything a server process of the suite needs; ``database_url`` "" is the embedded
    default (SQLite in the instance folder). ``settings`` become ``MODERATION_*``."""
    values = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": f"system-{uuid.uuid4().hex[:8]}",
        "TRUSTED_PROXIES": "1",
        "FORM_TOKEN_MIN_AGE": "0",
        "SPAM_MIN_FILL_SECONDS": "0",
        # Limits stay on, high enough for the load: every client rotates its address
        # (see client_address) and every comment has an email of its own.
        "LIMIT_SUBMIT_PER_ADDRESS": "50/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "20/minute",
        "LIMIT_SUBMIT_PER_SITE": "10000000/hour",
        "LOG_LEVEL": "INFO",
        **settings,
    }
    return {f"MODERATION_{name}": value for name, value in values.items()}


class ServerSet:
    """Server processes that share one configuration; a killed one can be started again
    on the same port. Every process is stopped (its whole group) when the set closes."""

    def __init__(self, workdir: Path, env: dict[str, str], args: Sequence[str]) -> None:
        self.workdir = workdir
        self.env = env
        self.args = list(args)
        self.processes: list[ServerProcess] = []
        self.retired: list[ServerProcess] = []

    def _launch(self, port: int | None = None) -> ServerProcess:
        folder = self.workdir / f"server-{len(self.processes) + len(self.retired)}"
        folder.mkdir(parents=True)
        return start_server(folder, self.env, self.args, port=port)

    def start(self, count: int) -> ServerSet:
        """Start ``count`` processes; the first migrates, then the test site is created."""
        self.processes.append(self._launch())
        with service_app(self.env) as app:
            Actions(app).create_site(SITE, [ORIGIN], flood_seconds=0)
        for _ in range(count - 1):
            self.processes.append(self._launch())
        return self

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.processes]

    def kill(self, index: int) -> None:
        """kill -9 the process group of server ``index``."""
        self.processes[index].kill()

    def replace(self, index: int) -> None:
        """Start server ``index`` again on its port (after a kill)."""
        old = self.processes[index]
        old.stop()
        self.retired.append(old)
        self.processes[index] = self._launch(port=old.port)

    def logs(self) -> str:
        return "\n".join(
            server.output() for server in [*self.retired, *self.processes] if server.log_path
        )

    def close(self) -> None:
        for server in self.processes:  # all at once: each takes a moment to stop
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in [*self.processes, *self.retired]:
            try:
                server.stop()
            finally:
                # leftovers of the group (the delivery worker of a killed master)
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(server.process.pid, signal.SIGKILL)

    def __enter__(self) -> ServerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the load ------------------------------------------------------------------------------


MARKER = re.compile(r"mk-[0-9a-f]{8}-c-?\d+-n\d+")


@dataclass
class Attempt:
    """One request a client made and what came back (``status`` None: no HTTP answer)."""

    client: int
    number: int
    server: int
    stage: str  # "token" (GET form-token) or "post" (the submission)
    started: float  # seconds since the run began
    ended: float
    status: int | None
    error: str = ""
    body: str = ""
    retry_after: str | None = None
    content_type: str = ""
    marker: str = ""
    author: str = ""
    email: str = ""
    network: str = ""  # the /24 the comment must be stored with
    answer: dict[str, Any] | None = None
    probe: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else self.error
        return (
            f"client {self.client} #{self.number} {self.stage} to server {self.server} "
            f"at {self.started:.2f}s: {what} {self.body[:300]!r}"
        )


def http_request(
    method: str, url: str, data: bytes | None, headers: dict[str, str], timeout: float = 30
) -> tuple[int | None, dict[str, str], str, str]:
    """One request on a connection of its own: status (None: no HTTP answer), headers with
    lower-case names, body, and the error when there was no answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer_headers, raw.decode(errors="replace"), ""
    except (OSError, http.client.HTTPException) as error:
        return None, {}, "", f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def outage_answers(url: str) -> tuple[dict[str, int | None], list[str]]:
    """Ask every public door once (reads, the form, the JSON API, health) and describe each
    answer that is not acceptable while a dependency is down: anything but a success, a
    refusal (4xx) or a 503 with Retry-After, or any body with a traceback in it."""
    thread = "load-0"
    form = urlencode({"comment": "Hello there", "author": "Probe", "email": "p@example.com"})
    doors = [
        ("GET", "/healthz", None, {}),
        ("GET", f"/w/{SITE}?thread={thread}", None, {"Accept": "text/html"}),
        (
            "POST",
            f"/w/{SITE}?thread={thread}",
            form.encode(),
            {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        # as a front end on the site's page calls them: with its Origin
        ("GET", f"/api/v1/sites/{SITE}/comments?thread={thread}", None, {"Origin": ORIGIN}),
        ("GET", f"/api/v1/sites/{SITE}/counts?thread={thread}", None, {"Origin": ORIGIN}),
        ("GET", f"/api/v1/sites/{SITE}/form-token?thread={thread}", None, {"Origin": ORIGIN}),
        (
            "POST",
            f"/api/v1/sites/{SITE}/comments?thread={thread}",
            json.dumps({"comment": "Hello", "author": "Probe", "email": "p@example.com"}).encode(),
            {"Origin": ORIGIN, "Content-Type": "application/json"},
        ),
        ("GET", "/dashboard/sign-in", None, {"Accept": "text/html"}),
        ("GET", "/dashboard/", None, {"Accept": "text/html"}),
    ]
    statuses: dict[str, int | None] = {}
    problems = []
    for method, path, data, headers in doors:
        status, answer_headers, body, error = http_request(
            method, url + path, data, {"X-Forwarded-For": "192.0.2.7", **headers}
        )
        statuses[f"{method} {path.split('?')[0]}"] = status
        acceptable = status is not None and (
            status < 500 or (status == 503 and answer_headers.get("retry-after"))
        )
        if not acceptable or TRACEBACK in body:
            what = f"HTTP {status}" if status is not None else error
            problems.append(f"{method} {path}: {what} {body[:300]!r}")
    return statuses, problems


def client_address(client: int, number: int) -> str:
    """Client ``client``'s address: always in its own /24, a new host every 10 comments
    (so the per-address limits, kept on, are not what the load measures)."""
    return f"10.{client // 250}.{client % 250}.{1 + (number // 10) % 250}"


def client_network(client: int) -> str:
    return f"10.{client // 250}.{client % 250}.0/24"


class LoadRun:
    """``clients`` threads submitting comments for ``seconds``, each request alternating
    between ``urls``; every attempt is kept for the checks afterwards."""

    def __init__(
        self, urls: Sequence[str], clients: int, seconds: float, timeout: float = 30
    ) -> None:
        self.urls = list(urls)
        self.clients = clients
        self.seconds = seconds
        self.timeout = timeout
        self.run_id = uuid.uuid4().hex[:8]
        self.attempts: list[Attempt] = []
        self.tokens_issued = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.t0 = 0.0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def start(self) -> LoadRun:
        self.t0 = time.monotonic()
        for client in range(self.clients):
            thread = threading.Thread(target=self._client, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def join(self) -> None:
        deadline = time.monotonic() + max(0.0, self.seconds - self.now()) + self.timeout * 2 + 10
        for thread in self.threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.stopping.set()
        alive = sum(thread.is_alive() for thread in self.threads)
        assert alive == 0, f"{alive} client thread(s) still waiting for an answer"

    def run(self) -> LoadRun:
        self.start()
        self.join()
        return self

    def _client(self, client: int) -> None:
        number = 0
        while self.now() < self.seconds and not self.stopping.is_set():
            server = (client + number) % len(self.urls)
            attempt = self.submit(server, client, number)
            if attempt.status is None:
                time.sleep(0.05)  # a dead server refuses at once: do not spin
            elif attempt.status >= 500:
                # a server without its database answers 503 at once: wait a little, as a
                # client told Retry-After would (hundreds of 503s still come each second)
                time.sleep(0.2)
            number += 1

    def submit(
        self,
        server: int,
        client: int,
        number: int,
        email: str | None = None,
        address: str | None = None,
        probe: bool = False,
    ) -> Attempt:
        """One comment: a form token, then the JSON submission. Returns the last attempt."""
        url = self.urls[server]
        thread_key = f"load-{(client + number) % 8}"
        headers = {
            "Origin": ORIGIN,
            "X-Forwarded-For": address or client_address(client, number),
            "Accept": "application/json",
        }
        started = self.now()
        status, answer_headers, body, error = self._http(
            "GET", f"{url}/api/v1/sites/{SITE}/form-token?thread={thread_key}", None, headers
        )
        token = None
        if status == 200:
            with suppress(ValueError, TypeError, KeyError):
                token = json.loads(body)["form_token"]
        if token is None:
            attempt = Attempt(
                client, number, server, "token", started, self.now(), status, error, body,
                answer_headers.get("retry-after"), answer_headers.get("content-type", ""),
                probe=probe,
            )  # fmt: skip
            self._keep(attempt)
            return attempt
        marker = f"mk-{self.run_id}-c{client}-n{number}"
        author = f"Client {client} #{number}"
        payload = {
            "comment": f"Load comment {marker}: client {client} writes number {number}.",
            "author": author,
            "email": email or f"c{client}n{number}.{self.run_id}@example.com",
            "form_token": token,
        }
        started = self.now()
        status, answer_headers, body, error = self._http(
            "POST",
            f"{url}/api/v1/sites/{SITE}/comments?thread={thread_key}",
            payload,
            {**headers, "Content-Type": "application/json"},
        )
        attempt = Attempt(
            client, number, server, "post", started, self.now(), status, error, body,
            answer_headers.get("retry-after"), answer_headers.get("content-type", ""),
            marker, author, payload["email"], client_network(client) if not address else "",
            probe=probe,
        )  # fmt: skip
        if attempt.ok:
            with suppress(ValueError):
                decoded = json.loads(body)
                attempt.answer = decoded if isinstance(decoded, dict) else None
            attempt.body = ""  # the answer is kept decoded; saves memory on long soaks
        self._keep(attempt)
        return attempt

    def _keep(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def _http(
        self, method: str, url: str, payload: object, headers: dict[str, str]
    ) -> tuple[int | None, dict[str, str], str, str]:
        data = json.dumps(payload).encode() if payload is not None else None
        return http_request(method, url, data, headers, self.timeout)

    def posts(self) -> list[Attempt]:
        return [attempt for attempt in self.attempts if attempt.stage == "post"]

    def wait_for_acks(self, timeout: float = 30) -> float:
        """Wait until every server has acknowledged a comment of this run (at most
        ``timeout`` seconds); returns when, in seconds of the run."""
        while self.now() < timeout:
            with self.lock:
                acked = {a.server for a in self.attempts if a.ok and a.stage == "post"}
            if len(acked) == len(self.urls):
                break
            time.sleep(0.02)
        return self.now()


def run_with_schedule(
    run: LoadRun, actions: Sequence[tuple[float, str, Callable[[], None]]]
) -> dict[str, float]:
    """Start the load, do each ``(at seconds, name, action)`` in order, wait for the load to
    end. Returns when each action finished, in seconds of the run."""
    marks: dict[str, float] = {}
    run.start()
    try:
        # the schedule counts from the moment comments flow, not from the first request: on
        # a busy machine the first answers may take longer than a short run's first fault
        warm = run.wait_for_acks()
        run.seconds += warm
        marks["warm"] = warm
        for at, name, action in sorted(actions, key=lambda entry: entry[0]):
            delay = warm + at - run.now()
            if delay > 0:
                time.sleep(min(delay, run.seconds))
            marks[f"{name}:start"] = run.now()
            action()
            marks[name] = run.now()
    except BaseException:
        run.stopping.set()
        raise
    finally:
        run.join()
    return marks


def fault_windows(
    seconds: float, cycles: int, begin: float, end: float
) -> list[tuple[float, float]]:
    """``cycles`` (fault, recovery) times spread over a run of ``seconds``."""
    period = seconds / cycles
    return [(period * (cycle + begin), period * (cycle + end)) for cycle in range(cycles)]


# -- the ledger ----------------------------------------------------------------------------


@dataclass
class Counts:
    """What the clients saw, held against what the database holds."""

    sent: int = 0  # submissions sent (POSTs)
    acked: int = 0  # 2xx answers
    stored: int = 0  # comment rows in the database
    lost: int = 0  # acknowledged, not stored
    duplicated: int = 0  # extra rows for one submission
    phantom: int = 0  # rows no request of this run sent
    misattributed: int = 0  # an answer describing another comment than its request's
    http_5xx: int = 0  # any 5xx, form tokens included
    http_503: int = 0
    http_500: int = 0
    limited: int = 0  # 429
    refused: int = 0  # other 4xx
    connection_errors: int = 0  # no HTTP answer at all
    locked: int = 0  # "database is locked" in an answer
    tracebacks: int = 0  # a traceback in an answer
    token_failures: int = 0  # form tokens not issued (the comment was not sent)
    stored_unacked: int = 0  # not acknowledged, stored anyway (5xx, cut connections, 4xx)
    stored_refused: int = 0  # refused with a 4xx, stored anyway
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        names = [f.name for f in fields(self) if f.name != "examples"]
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    def example(self, message: str) -> None:
        if len(self.examples) < 12:
            self.examples.append(message)


def stored_comments(database_url: str) -> list[dict[str, Any]]:
    """Every comment row, read with a connection of our own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, author, email, text, html, ip_truncated FROM comments")
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'moderation.db'}"


def verify(run: LoadRun, database_url: str) -> Counts:
    """Hold every answer against the database."""
    counts = Counts()
    rows = stored_comments(database_url)
    by_id = {row["id"]: row for row in rows}
    by_marker: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        found = MARKER.search(row["text"] or "")
        by_marker.setdefault(found.group(0) if found else None, []).append(row)
    posts = run.posts()
    sent_markers = Counter(attempt.marker for attempt in posts)
    assert max(sent_markers.values(), default=1) == 1, "a marker was sent twice"
    counts.sent = len(posts)
    counts.stored = len(rows)

    for attempt in run.attempts:
        body = attempt.body
        if attempt.status is None:
            counts.connection_errors += 1
        elif attempt.status >= 500:
            counts.http_5xx += 1
            counts.http_503 += attempt.status == 503
            counts.http_500 += attempt.status == 500
            if attempt.status != 503:
                counts.example(attempt.describe())
        elif attempt.status == 429:
            counts.limited += 1
            if not attempt.probe:
                counts.example(attempt.describe())
        elif attempt.status >= 400:
            counts.refused += 1
            counts.example(attempt.describe())
        if LOCKED in body:
            counts.locked += 1
            counts.example("database is locked: " + attempt.describe())
        if TRACEBACK in body or 'File "/' in body:
            counts.tracebacks += 1
            counts.example("traceback: " + attempt.describe())
        if attempt.stage == "token":
            counts.token_failures += 1

    for attempt in posts:
        matching = by_marker.get(attempt.marker, [])
        if not attempt.ok:
            if matching:
                counts.stored_unacked += 1
                if attempt.status is not None and 400 <= attempt.status < 500:
                    counts.stored_refused += 1
                    counts.example("refused yet stored: " + attempt.describe())
            continue
        counts.acked += 1
        if not matching:
            counts.lost += 1
            counts.example(f"lost: {attempt.describe()} answer={attempt.answer}")
        answer = attempt.answer or {}
        row = by_id.get(answer.get("id"))
        problems = []
        if row is None:
            if matching:  # (a lost comment is counted as lost, not twice)
                problems.append(f"no row with the answered id {answer.get('id')}")
        else:
            if attempt.marker not in (row["text"] or ""):
                problems.append(f"row {row['id']} holds {row['text']!r}")
            if row["author"] != attempt.author or row["email"] != attempt.email:
                problems.append(f"row {row['id']} is by {row['author']!r} <{row['email']}>")
            if attempt.network and row["ip_truncated"] != attempt.network:
                problems.append(f"row {row['id']} came from {row['ip_truncated']}")
        if answer.get("author") != attempt.author:
            problems.append(f"answer names {answer.get('author')!r}")
        html = str(answer.get("html") or "")
        if attempt.marker not in html or len(MARKER.findall(html)) != 1:
            problems.append(f"answer html {html[:200]!r}")
        if answer.get("status") not in ("pending", "approved"):
            problems.append(f"answer status {answer.get('status')!r}")
        if problems:
            counts.misattributed += 1
            counts.example(f"misattributed {attempt.marker}: {'; '.join(problems)}")

    for marker, matching in by_marker.items():
        if marker is None or marker not in sent_markers:
            counts.phantom += len(matching)
            counts.example(f"phantom rows {[row['id'] for row in matching]} marker={marker}")
        elif len(matching) > 1:
            counts.duplicated += len(matching) - 1
            counts.example(f"duplicated {marker}: rows {[row['id'] for row in matching]}")
    return counts


def log_findings(logs: str) -> dict[str, int]:
    return {
        "log_tracebacks": logs.count(TRACEBACK),
        "log_locked": logs.count(LOCKED),
        "log_errors": len(re.findall(r"\bERROR\b", logs)),
    }


def log_excerpt(logs: str, limit: int = 40) -> str:
    """The server logs boiled down: each distinct error line, the product's own frames of
    its tracebacks and the exceptions they ended in, with how often each was seen."""
    lines = logs.splitlines()
    seen: Counter[str] = Counter()
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if "ERROR" in line or LOCKED in line or EXCEPTION_LINE.match(line):
            seen[stripped] += 1
        elif 'File "' in line and "/moderation/" in line:
            following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
            seen[f"{stripped}\n{following}"] += 1
    return "\n".join(f"[x{count}] {text}" for text, count in list(seen.items())[:limit])


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Refused|Shutdown)\b")


# -- reporting -----------------------------------------------------------------------------


class _Summary:
    """Prints every run's counts at the end of the session, captured output or not."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("system suite counts")
        for line in self.lines:
            terminalreporter.write_line(line)


def report(config: pytest.Config, name: str, counts: Counts, **extra: object) -> str:
    """Record ``name``'s counts for the session summary and print them (seen with -s or
    when the test fails)."""
    plugin = config.pluginmanager.get_plugin("system-suite-summary")
    if plugin is None:
        plugin = _Summary()
        config.pluginmanager.register(plugin, "system-suite-summary")
    details = ", ".join(f"{key}={value}" for key, value in extra.items())
    line = f"{name}: {counts.line()}" + (f"; {details}" if details else "")
    plugin.lines.append(line)
    print(line)
    for example in counts.examples:
        print("   ", example)
    return line


def explain(counts: Counts, logs: str = "") -> str:
    """A failure message: the counts, examples of what went wrong, the server logs' worst."""
    parts = [counts.line(), *counts.examples]
    excerpt = log_excerpt(logs)
    if excerpt:
        parts.extend(["-- server logs --", excerpt])
    return "\n".join(parts)


def assert_nothing_lost(counts: Counts, logs: str) -> None:
    """The invariants every run keeps, faults or not."""
    message = explain(counts, logs)
    assert counts.sent > 0 and counts.acked > 0, message
    assert counts.lost == 0, message
    assert counts.duplicated == 0, message
    assert counts.phantom == 0, message
    assert counts.misattributed == 0, message
    assert counts.stored <= counts.sent, message
    assert counts.locked == 0, message
    assert counts.tracebacks == 0, message
    assert counts.http_500 == 0, message
    assert counts.http_5xx == counts.http_503, message
    assert counts.stored_refused == 0, message
    assert counts.acked + counts.stored_unacked == counts.stored, message


def assert_clean(counts: Counts, logs: str) -> None:
    """A run without faults: every request answered, and answered well."""
    assert_nothing_lost(counts, logs)
    message = explain(counts, logs)
    assert counts.http_5xx == 0, message
    assert counts.connection_errors == 0, message
    assert counts.token_failures == 0, message
    assert counts.refused == 0, message
    assert counts.limited == 0, message
    assert counts.acked == counts.sent == counts.stored, message
    assert log_findings(logs)["log_tracebacks"] == 0, message
