"""The system suite's harness: real ``moderation serve`` processes and a load of concurrent
clients. The PostgreSQL and Redis a test may stop are in :mod:`tests.private_services`;
the ledger that proves afterwards, from the database, that nothing was lost, doubled or
misattributed is :mod:`tests.system_ledger`.

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
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.databases import uses_server_database
from tests.helpers import Actions
from tests.servers import ServerProcess, service_app, start_server

ORIGIN = "https://blog.example"
SITE = "blog"
TRACEBACK = "Traceback (most recent call last)"
LOCKED = "database is locked"

#: The suite's databases are its own (a private PostgreSQL cluster or a database of its own
#: on the machine's, SQLite files of its own), so the database the whole run is pointed at
#: changes nothing for it: CI runs it once, in the SQLite pass, not again in the PostgreSQL
#: pass.
ONCE_PER_CI = pytest.mark.skipif(
    uses_server_database(),
    reason="system suite: its databases are its own; runs in the SQLite pass",
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
    #: Between the moments of a fault run (see LoadRun.calm): how long each client waits
    #: after each comment; 0 keeps the servers saturated all along.
    calm_pause: float = 0.0

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
#: as the soak's. A fault strikes a saturated service (every thread of every server in the
#: middle of a request); between the moments of a fault run where saturation proves nothing
#: more (a killed server starting again, PostgreSQL or the webhook receiver away, the
#: stretch that must answer well after a return) the 32 clients send a comment each a
#: second: a few dozen a second to check, where saturation sent over a hundred and took
#: every core it could get.
QUICK = Scale(clients=32, load_seconds=2.5, fault_seconds=3.0, fault_cycles=1, calm_pause=1.0)
#: ``scripts/soak.sh`` (``-m soak``): the same scenarios, longer and repeated, saturated
#: all along.
SOAK = Scale.from_environment()
#: Parametrize a scenario with both: ``quick`` runs in every test run, ``soak`` only when
#: asked for (tests/conftest.py leaves ``soak`` tests out unless ``-m`` names the mark).
SCALES = [
    pytest.param(QUICK, id="quick"),
    pytest.param(SOAK, id="soak", marks=pytest.mark.soak),
]


# -- server processes ----------------------------------------------------------------------


def server_env(instance: Path, database_url: str, storage: str, **settings: str) -> dict[str, str]:
    """Everything a server process of the suite needs; ``database_url`` "" is the embedded
    default (SQLite in the instance folder). ``settings`` become ``MODERATION_*``."""
    values = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": f"test-system-{uuid.uuid4().hex[:8]}",  # see tests/redis_dbs.py
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
        self.log_start: dict[Path, int] = {}  # what logs() leaves out (see begin)

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

    def begin(self) -> None:
        """A set serving test after test: start any process an earlier test left dead
        again, and from now on, logs() holds only what the processes print next."""
        for index, server in enumerate(self.processes):
            if server.process.poll() is not None:
                self.replace(index)
        self.log_start = {
            server.log_path: server.log_path.stat().st_size
            for server in [*self.retired, *self.processes]
        }

    def logs(self) -> str:
        parts = []
        for server in [*self.retired, *self.processes]:
            with server.log_path.open("rb") as log:
                log.seek(self.log_start.get(server.log_path, 0))
                parts.append(log.read().decode(errors="replace"))
        return "\n".join(parts)

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


#: How long clients woken from a calm take to keep every server thread busy again.
SATURATION_LEAD = 0.5

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
        self.pause = 0.0
        self.saturating = threading.Event()  # set: full speed; waking every waiting client
        self.saturating.set()
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
        self.saturating.set()
        alive = sum(thread.is_alive() for thread in self.threads)
        assert alive == 0, f"{alive} client thread(s) still waiting for an answer"

    def run(self) -> LoadRun:
        self.start()
        self.join()
        return self

    def calm(self, pause: float) -> None:
        """From now on each client waits ``pause`` seconds after each comment (0: no
        change): between the moments of a fault, where saturation only costs CPU."""
        if pause > 0:
            self.pause = pause
            self.saturating.clear()

    def saturate(self) -> None:
        """Full speed again, at once (every waiting client wakes up); after a calm, returns
        once the clients fill every server thread again, ready for the next fault."""
        was_calm = self.pause > 0
        self.pause = 0.0
        self.saturating.set()
        if was_calm:
            time.sleep(SATURATION_LEAD)

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
            pause = min(self.pause, self.seconds - self.now())
            if pause > 0:
                self.saturating.wait(pause)
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
