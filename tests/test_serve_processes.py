"""The processes ``moderation serve`` starts (its gunicorn workers, its delivery worker) and
which of them stops what. The same on every database: one server on a migrated SQLite
copy (a module of its own: on a PostgreSQL run, emptying the shared database would pull
it from under another module's server)."""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import fresh_server_env, start_server

pytestmark = pytest.mark.database_incidental


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie waiting for whoever
    adopted it to reap it has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_only_the_server_process_stops_what_it_started(
    tmp_path: Path, migrated_database: str
) -> None:
    """A gunicorn worker that leaves (here told to by SIGTTOU) runs up the server's code as
    it goes: it neither removes the metrics folder the other worker writes to nor stops the
    delivery worker. The delivery worker is forked from the server's process; killed
    (SIGKILL, no chance to stop it), the server leaves no delivery worker behind."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**fresh_server_env(tmp_path, migrated_database), "TMPDIR": str(temporary)}
    server = start_server(tmp_path, env, ["--workers", "2"])
    try:
        server.wait_for_output("webhook delivery worker started")
        output = server.output()
        match = re.search(r"webhook delivery worker started \(pid (\d+)\)", output)
        assert match, output
        delivery = int(match.group(1))
        booted = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", output)]
        (metrics,) = temporary.glob("moderation-metrics-*")

        os.kill(server.process.pid, signal.SIGTTOU)  # one worker fewer
        server.wait_for_output("Worker exiting")
        wait_until_gone(booted, count=1)
        assert metrics.is_dir()
        assert running(delivery)
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as answer:
            assert answer.status == 200

        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)
        wait_until_gone([delivery])
        assert not running(delivery), server.output()
    finally:
        server.kill()


def wait_until_gone(pids: list[int], count: int | None = None, timeout: float = 10) -> None:
    """Until ``count`` of ``pids`` (all by default) have exited, for ``timeout`` seconds."""
    wanted = len(pids) if count is None else count
    deadline = time.monotonic() + timeout
    while sum(not running(pid) for pid in pids) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
