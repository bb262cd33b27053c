"""PostgreSQL and Redis servers of a test's own, on free ports: a test may stop them and
start them again without disturbing anyone else's (the system suite's faults, the limits
when Redis goes away)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.servers import free_port


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
        """A new cluster: a copy of the machine's template cluster (a tenth of initdb's CPU),
        made by initdb the first time."""
        template = self._template()
        command = ["cp", "-a", str(template), str(self.data)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        return self

    def _template(self) -> Path:
        """The cluster initdb made once for this PostgreSQL and user, kept in the temporary
        folder for every later run (made aside and renamed into place: a run that finds it
        finds it whole)."""
        options = ["-A", "trust", "-U", "postgres", "--no-sync"]
        key = hashlib.sha256(f"{self.bindir} {options} {os.geteuid()}".encode()).hexdigest()
        template = Path(tempfile.gettempdir()) / f"moderation-pg-template-{key[:16]}"
        if (template / "PG_VERSION").is_file():
            return template
        making = Path(tempfile.mkdtemp(prefix="pgtemplate-", dir=template.parent))
        try:
            if self.as_postgres:
                shutil.chown(making, user="postgres")
            self._run("initdb", "-D", str(making / "data"), *options)
            with suppress(OSError):  # another run put its own in place first
                (making / "data").rename(template)
        finally:
            shutil.rmtree(making, ignore_errors=True)
        return template

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

    def flush(self) -> None:
        """Delete every key (limits counted so far)."""
        with self._client() as client:
            client.flushall()

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
