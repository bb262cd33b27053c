"""Real server processes for tests: ``moderation serve`` on a free port, stopped afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from click.testing import Result

from flask import Flask
from werkzeug.serving import make_server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_in_thread(app: Flask) -> Iterator[str]:
    """``app`` behind a real HTTP server on 127.0.0.1 in a thread of the test (a browser
    test that makes its tokens and rows through the app itself); yields its address."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@dataclass
class ServerProcess:
    """A running ``moderation serve`` and what it printed."""

    process: subprocess.Popen[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    log_file: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        """Wait until the server (or its delivery worker) has printed ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in {timeout:g} s:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if gunicorn does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._close_log()

    def kill(self) -> None:
        """kill -9 the whole process group (master and workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self._close_log()

    def _close_log(self) -> None:
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


def wait_until_healthy(
    url: str, process: subprocess.Popen[str], log_path: Path, timeout: float = 30
) -> None:
    """Poll ``/healthz`` until it answers 200; fail with the server's output otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server did not become healthy in {timeout}s:\n{log_path.read_text()}")


def start_server(
    workdir: Path,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    executable: list[str] | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start ``moderation serve`` in ``workdir`` (its ``./instance`` unless env says otherwise).

    One process unless ``args`` say ``--workers``: a test that reads right after a change
    then always reaches the process that made it (another process may serve what it read
    up to ``PUBLIC_READ_STALENESS`` before)."""
    port = port or free_port()
    log_path = workdir / f"serve-{port}.log"
    full_env = {**os.environ, **(env or {})}
    args = list(args or [])
    if "--workers" not in args:
        args += ["--workers", "1"]
    command = [
        *(executable or [sys.executable, "-m", "moderation"]),
        "serve",
        "--port",
        str(port),
        *args,
    ]
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = ServerProcess(process, port, log_path, full_env, log)
    try:
        wait_until_healthy(server.url, process, log_path)
    except Exception:
        server.stop()
        raise
    return server


def fresh_server_env(tmp_path: Path, template: str = "", **settings: str) -> dict[str, str]:
    """Environment for server processes: a private instance folder, and on a PostgreSQL run
    that database emptied first. ``settings`` become ``MODERATION_*`` variables.

    ``template`` (the ``migrated_database`` fixture), for a test that is not about the
    first start's migrations: the database starts migrated and empty (a copy of that SQLite
    file in the instance folder; on PostgreSQL emptied, not dropped), so the server finds
    its schema at head and migrates nothing, a quarter of a second of CPU less a start. It
    still creates the admin and the demo site on its first start."""
    from tests.databases import (
        CHEAP_PASSWORD_HASH,
        empty_server_database,
        reset_server_database,
        uses_server_database,
    )

    instance = tmp_path / "instance"
    if uses_server_database():
        if template:
            empty_server_database(os.environ["MODERATION_DATABASE_URL"], tmp_path)
        else:
            reset_server_database(os.environ["MODERATION_DATABASE_URL"])
    elif template:
        copy_migrated_database(template, instance)
    env = {
        "MODERATION_INSTANCE_PATH": str(instance),
        "MODERATION_PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,  # as the in-process tests
    }
    env.update({f"MODERATION_{name}": value for name, value in settings.items()})
    return env


def copy_migrated_database(template: str, instance: Path) -> None:
    """Create the instance folder ``instance`` holding a copy of the migrated SQLite
    database ``template`` where the service keeps its database, private as the service
    makes them."""
    instance.mkdir(mode=0o700, parents=True)
    database = instance / "moderation.db"
    shutil.copyfile(template.removeprefix("sqlite:///"), database)
    database.chmod(0o600)


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``moderation ARGS`` as its own process with ``env``; fail loudly on errors."""
    result = subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"moderation {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def service_app(env: dict[str, str], overrides: dict[str, Any] | None = None) -> Iterator[Flask]:
    """The application that ``moderation serve`` started with ``env`` runs, built in this
    process on the same database and instance, to set up sites, accounts and integrations
    through the services: a ``moderation`` CLI process costs about two seconds (interpreter,
    imports, create_app), this a fraction of one. ``overrides`` change settings of this
    process's app only (the server keeps its own)."""
    from moderation import create_app

    with moderation_settings(env):
        app = create_app(overrides)
    try:
        yield app
    finally:
        dispose(app)


@contextmanager
def moderation_settings(env: dict[str, str]) -> Iterator[None]:
    """``env``'s ``MODERATION_*`` variables in this process's environment for a while (only
    those: another, such as PROMETHEUS_MULTIPROC_DIR, would make this process count in a
    server's metrics). An empty value stands for a setting left unset."""
    settings = {name: value for name, value in env.items() if name.startswith("MODERATION_")}
    saved = {name: os.environ.get(name) for name in settings}
    for name, value in settings.items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous


def dispose(app: Flask) -> None:
    """Close ``app``'s database connections."""
    from moderation.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cli_in_process(env: dict[str, str], *args: str) -> Result:
    """``moderation ARGS`` (the command itself, as the console script builds it) run in
    this process with ``env``'s settings: what a process of its own would print and exit
    with, without the second and a half of starting one. An exception the command did not
    handle is ``result.exception``, as a traceback would be."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from moderation.cli import command

    group = command()
    with moderation_settings(env):
        info = ScriptInfo(create_app=group.create_app)
        app = info.load_app()
        try:
            return CliRunner().invoke(group, list(args), obj=info)
        finally:
            dispose(app)


def http_json(
    method: str,
    url: str,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], object]:
    """One HTTP request with a JSON body; returns status, headers and the decoded body."""
    import json

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status, response_headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, response_headers = error.read(), error.code, dict(error.headers)
    try:
        decoded: object = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return status, response_headers, decoded


def leave_server_database_empty(instance_path: str) -> None:
    """After a module's real server: on a PostgreSQL run, leave the shared database migrated
    and empty, as the other tests expect it (SQLite runs have their own files)."""
    from moderation import create_app
    from moderation.extensions import db
    from tests.conftest import truncate_all, uses_server_database

    if not uses_server_database():
        return
    app = create_app(
        {"DATABASE_URL": os.environ["MODERATION_DATABASE_URL"]}, instance_path=instance_path
    )
    truncate_all(app)
    with app.app_context():
        db.engine.dispose()


class Browser:
    """A client of a real server with a cookie jar of its own that does not follow redirects:
    ``request`` returns status, headers and body text whatever the status."""

    def __init__(self, base_url: str) -> None:
        import http.cookiejar

        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """POST ``fields`` urlencoded, as a browser submits a form."""
        import urllib.parse

        return self.request(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def json(
        self, method: str, path: str, payload: object, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """Send ``payload`` as JSON."""
        import json

        return self.request(
            method,
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def cookie_values(self) -> list[str]:
        return [cookie.value or "" for cookie in self.cookies]


def start_slow_post(port: int) -> socket.socket:
    """A connection that begins a comment post to the demo site and has sent one byte of
    its 100,000-byte body: the server holds a thread reading it until the client sends
    the rest or gives up (send a byte now and then to keep it there). It carries the demo
    site's own origin, so the view really reads the body (from elsewhere it would refuse at
    once, and the thread would only drain the body for a few seconds)."""
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(
        b"POST /api/v1/sites/demo/comments?thread=slow HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Origin: http://127.0.0.1:{port}\r\n".encode()
        + b"Content-Length: 100000\r\n\r\n{"
    )
    return slow
