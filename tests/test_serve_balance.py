"""``moderation serve`` with two processes: keep-alive connections split evenly between them,
a slow client still holds one thread only, and a second server on the same port is refused."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerProcess, fresh_server_env, start_server, start_slow_post

#: Where the connections land does not depend on the database: SQLite is enough.
pytestmark = [pytest.mark.slow, pytest.mark.database_incidental]

#: Keep-alive connections opened at once, as a proxy's or a load generator's pool opens them.
CONNECTIONS = 64
#: Bursts of them, one after another: on a shared listening socket a burst's split depends
#: on which process wakes first, and about two bursts in five happened to split fairly.
BURSTS = 5


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: str
) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("balance")
    server = start_server(
        workdir,
        fresh_server_env(workdir, migrated_database),
        ["--workers", "2", "--threads", "2", "--no-deliver"],
    )
    try:
        # healthy is one worker answering; the other may not listen yet (gunicorn forks
        # it up to 0.1 s later), and a burst then all lands on the first
        deadline = time.monotonic() + 30
        while not both_listen(server) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert both_listen(server), server.output()
        yield server
    finally:
        server.stop()


def both_listen(server: ServerProcess) -> bool:
    """Whether both workers hold a listening socket on the server's port."""
    workers = worker_pids(server.process.pid)
    return len(workers) == 2 and all(listening(pid, server.port) for pid in workers)


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children (``--no-deliver``: no other child)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def held_connections(pid: int, port: int, state: str = "01") -> int:
    """Sockets on ``port`` in ``state`` (01: established connections, 0A: listening) that
    process ``pid`` holds (from /proc)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rpartition(":")[2], 16) == port and fields[3] == state:
                found.add(f"socket:[{fields[9]}]")
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            held += os.readlink(fd) in found
        except OSError:
            continue  # closed meanwhile
    return held


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on ``port``."""
    return held_connections(pid, port, state="0A") > 0


def read_response(client: socket.socket) -> bytes:
    """One whole HTTP response (headers and Content-Length body) from a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = client.recv(65536)
        assert chunk, body
        body += chunk
    return head


def burst_split(server: ServerProcess) -> list[int]:
    """Open ``CONNECTIONS`` connections at once, answer a request on each, and count how many
    each worker holds while they are kept alive (fewest first); then close them."""
    clients = [
        socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(CONNECTIONS)
    ]
    try:
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            assert read_response(client).startswith(b"HTTP/1.1 200")
        workers = worker_pids(server.process.pid)
        assert len(workers) == 2
        return sorted(held_connections(pid, server.port) for pid in workers)
    finally:
        for client in clients:
            client.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_keep_alive_connections_split_evenly_between_processes(
    two_processes: ServerProcess,
) -> None:
    """Bursts of 64 connections opened at once and kept alive, each with a request answered:
    each of the two processes holds (so serves every later request of) at least a quarter
    of every burst. On one shared listening socket the process that woke first took most
    of a burst and kept it while the other idled (splits of 2/62 to 19/45; wrk's 16: 0/16,
    bench/RESULTS.md). With a socket each the kernel hashes connections to them: fewer
    than 16 of 64 on one side happens in about 2.4 bursts in 100,000, so this test fails
    by chance about 1.2 times in 10,000 runs."""
    splits = [burst_split(two_processes) for _ in range(BURSTS)]
    # every connection was still open, kept alive, when counted
    assert all(sum(split) == CONNECTIONS for split in splits), splits
    assert all(split[0] >= CONNECTIONS // 4 for split in splits), splits


def test_a_slow_client_does_not_stall_readers_of_either_process(
    two_processes: ServerProcess,
) -> None:
    """A connection that trickles a comment's body holds one thread of the process it landed
    on, whichever that is; readers on new connections (hashed to both processes) keep
    getting answers, from that process's other thread too."""
    server = two_processes
    slow = start_slow_post(server.port)
    try:
        for _ in range(20):
            slow.sendall(b" ")  # still sending: the server waits for the rest
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as reader:
                reader.sendall(
                    b"GET /api/v1/sites/demo/comments?thread=t HTTP/1.1\r\n"
                    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                assert read_response(reader).startswith(b"HTTP/1.1 200")
        # the slow request is still being read: not answered, its thread still held
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):
            slow.recv(1)
        assert "Traceback" not in server.output()
    finally:
        slow.close()


def test_a_second_server_on_a_taken_port_is_refused(
    two_processes: ServerProcess, tmp_path: Path
) -> None:
    """Each process listens on a socket of its own (SO_REUSEPORT), which another server of
    the same user could join without an error; ``moderation serve`` checks first."""
    second = subprocess.Popen(
        [sys.executable, "-m", "moderation", "serve", "--port", str(two_processes.port)],
        cwd=tmp_path,
        # an instance of its own; it stops before touching any database
        env={**os.environ, "MODERATION_INSTANCE_PATH": str(tmp_path / "instance")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = second.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # it started and serves: stop all of it
        os.killpg(second.pid, signal.SIGKILL)
        second.communicate()
        raise
    assert second.returncode == 1, output
    assert f"Error: port {two_processes.port} on 127.0.0.1 is in use" in output
    assert "Traceback" not in output
