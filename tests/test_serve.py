"""``moderation serve`` as a real process answering HTTP, from a checkout and from a wheel."""

from __future__ import annotations

import importlib
import json
import os
import re
import stat
import subprocess
import sys
import sysconfig
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import reset_server_database, uses_server_database
from tests.servers import ServerProcess, start_server, start_slow_post

ROOT = Path(__file__).resolve().parent.parent


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    """A private instance folder; on a PostgreSQL run, that database emptied first."""
    env = {"MODERATION_INSTANCE_PATH": str(tmp_path / "instance")}
    if uses_server_database():
        reset_server_database(os.environ["MODERATION_DATABASE_URL"])
    return env


@dataclass
class FirstStart:
    """The module's server: the first start on an empty instance, under the common umask
    (022), and the modes of the instance's files while it ran. A server start costs a
    second and a half of CPU: the tests that need no fresh instance share this one."""

    server: ServerProcess
    instance: Path
    env: dict[str, str]
    modes: dict[str, str]


@pytest.fixture(scope="module")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstStart]:
    workdir = tmp_path_factory.mktemp("serve")
    instance = workdir / "instance"
    env = {"MODERATION_INSTANCE_PATH": str(instance)}
    if uses_server_database():
        reset_server_database(os.environ["MODERATION_DATABASE_URL"])
    previous = os.umask(0o022)
    try:
        server = start_server(workdir, env)  # the process keeps the umask it started with
    finally:
        os.umask(previous)
    try:
        # on SQLite the database, its write-ahead log and index too, while the server runs
        names = ["", "secret_key"]
        if not uses_server_database():
            names += ["moderation.db", "moderation.db-wal", "moderation.db-shm"]
        modes = {name: oct(stat.S_IMODE((instance / name).stat().st_mode)) for name in names}
        yield FirstStart(server, instance, env, modes)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def second_output(first_start: FirstStart, tmp_path_factory: pytest.TempPathFactory) -> str:
    """What a second start on the same instance printed until it was stopped (SIGTERM),
    once someone opened the instance folder up to other users (``chmod 755``)."""
    first_start.instance.chmod(0o755)
    workdir = tmp_path_factory.mktemp("second")
    second = start_server(workdir, first_start.env)
    try:
        assert get(f"{second.url}/healthz")[0] == 200
        second.wait_for_output("webhook delivery worker started")
    finally:
        second.stop()
    assert second.process.returncode == 0, second.output()  # stopped as asked: no failure
    return second.output()


@pytest.mark.slow
def test_serve_migrates_bootstraps_and_answers(first_start: FirstStart) -> None:
    server = first_start.server
    status, body, _headers = get(f"{server.url}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "database": "ok"}
    output = server.output()
    match = re.search(r"username 'admin', password '([^']+)'", output)
    assert match, output
    assert "Created the demo site" in output
    status, body, _ = get(f"{server.url}/demo")
    assert status == 200
    assert 'data-site="demo"' in body
    if not uses_server_database():
        assert (first_start.instance / "moderation.db").exists()
        assert (first_start.instance / "secret_key").exists()


@pytest.mark.slow
def test_second_start_does_not_bootstrap_again(second_output: str) -> None:
    assert "Created the first admin" not in second_output
    assert "Created the demo site" not in second_output


@pytest.mark.slow
def test_second_start_migrates_nothing_and_its_worker_stops_with_it(second_output: str) -> None:
    """At the migrations' head a start does not load Alembic at all (it would say which
    database it found); a stopped server's delivery worker finishes before the server
    exits."""
    assert "alembic" not in second_output
    assert "webhook delivery worker stopped" in second_output


@pytest.mark.slow
def test_serve_keeps_the_instance_private_and_says_when_it_is_not(
    first_start: FirstStart, second_output: str
) -> None:
    """Under the common umask (022), the first start makes the instance folder 0700 and
    its files 0600 (on SQLite the database, its write-ahead log and index too, while the
    server runs); a later start on a folder someone opened up prints a warning line."""
    assert "Warning:" not in first_start.server.output()
    modes = first_start.modes
    assert modes == {name: "0o600" if name else "0o700" for name in modes}
    instance = first_start.instance
    assert f"Warning: {instance} is open to other users (mode 0755)" in second_output
    assert f"chmod 700 {instance}" in second_output


@pytest.mark.slow
def test_unknown_page_gets_a_readable_404(first_start: FirstStart) -> None:
    server = first_start.server
    status, body, headers = get(f"{server.url}/no-such-page")
    assert status == 404
    assert "Not Found" in body
    assert "Traceback" not in body
    status, body, headers = get(f"{server.url}/api/v1/no-such-thing")
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 404


@pytest.mark.slow
@pytest.mark.any_database  # packaging: the same wheel whatever the database
def test_wheel_installs_and_serves_pages(
    tmp_path: Path, serve_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-editable install into a fresh virtual environment renders templates. The wheel
    is the only thing installed there; its dependencies are borrowed from the test run's
    environment through a ``.pth`` line (installing them again from the registry took most
    of a minute), which does not bring this checkout's editable install along: that one is
    a ``.pth`` file of its own, and Python reads those only in site directories. The wheel
    is built by the build backend pyproject.toml names, installed with the test extras
    (pip's isolated build would fetch it from the registry first: seconds of every run),
    called in this process as pip would call it (``pip wheel`` cost a second of CPU more)."""
    backend_name = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"][
        "build-backend"
    ]
    backend = importlib.import_module(backend_name)
    dist = tmp_path / "dist"
    dist.mkdir()
    monkeypatch.chdir(ROOT)  # a build backend builds the project in the current folder
    wheel = dist / backend.build_wheel(str(dist))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    borrowed = sysconfig.get_paths()["purelib"]
    (Path(site_packages) / "borrowed-dependencies.pth").write_text(borrowed + "\n")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", python, "install", "--quiet"),
            *("--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)),
        ],
        check=True,
        timeout=300,
    )
    found = subprocess.run(
        # where it would be imported from, without importing it (a second of CPU)
        [
            python,
            "-c",
            "import importlib.util; print(importlib.util.find_spec('moderation').origin)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert found.startswith(site_packages), found  # the wheel, not this checkout
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    server = start_server(
        workdir, serve_env, ["--no-deliver"], executable=[str(venv / "bin" / "moderation")]
    )
    try:
        status, body, _ = get(f"{server.url}/demo")
        assert status == 200
        assert "Leave a Reply" in body or 'data-site="demo"' in body
        status, body, _ = get(f"{server.url}/no-such-page")
        assert status == 404
        assert "<h1>404 Not Found</h1>" in body
        # the dashboard's templates ship inside its package
        status, body, _ = get(f"{server.url}/dashboard/sign-in")
        assert status == 200
        assert "<h1>Sign in</h1>" in body
    finally:
        server.stop()


@pytest.mark.slow
def test_a_client_sending_its_body_slowly_does_not_stall_readers(first_start: FirstStart) -> None:
    """One process with the default threads: a connection that trickles a comment's body
    holds one thread while it lasts; readers keep getting answers from the others. (With
    one thread it would hold the whole process until the client finished or gave up.)"""
    server = first_start.server
    slow = start_slow_post(server.port)
    try:
        for _ in range(10):
            slow.sendall(b" ")  # still sending: the server waits for the rest
            status, body, _ = get(f"{server.url}/api/v1/sites/demo/comments?thread=t")
            assert status == 200, body
        # the slow request is still being read: not answered, its thread still held
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):
            slow.recv(1)
        assert "Traceback" not in server.output()
    finally:
        slow.close()
