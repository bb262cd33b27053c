"""``moderation serve``: migrate, bootstrap on first start, serve with gunicorn."""

from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from moderation.commands.errors import one_line_errors
from moderation.config import loose_permissions, private_paths
from moderation.extensions import MIGRATIONS_DIRECTORY, db
from moderation.metrics import multiprocess
from moderation.ratelimit import is_process_local
from moderation.services import spam_upkeep
from moderation.services.bootstrap import bootstrap, origins_for_listen_address


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Server processes [default: one more than the cores; one on memory:// rate limits].",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads per process (two: a client sending slowly holds one, not the process).",
)
@click.option(
    "--deliver/--no-deliver",
    default=True,
    show_default=True,
    help="Also run a webhook delivery worker beside the server.",
)
@with_appcontext
@one_line_errors
def serve_command(host: str, port: int, workers: int | None, threads: int, deliver: bool) -> None:
    """Apply migrations, create the admin and demo site on first start, and serve."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    workers = server_processes(workers, app.config["RATELIMIT_STORAGE_URI"])
    refuse_a_port_in_use(host, port)
    if not schema_at_head():
        upgrade_in_a_child()
    private = private_paths(Path(app.instance_path), app.config["DATABASE_URL"])
    for warning in loose_permissions(private):
        click.echo(f"Warning: {warning}", err=True)
    result = bootstrap(origins_for_listen_address(host, port))
    if result.admin_password:
        click.echo(
            f"Created the first admin: username {result.admin_username!r}, "
            f"password {result.admin_password!r}. It is shown only this once."
        )
    if result.demo_site:
        click.echo(f"Created the demo site: open http://{_display_host(host)}:{port}/demo")
    spam_key = spam_upkeep.check_key(record_when_new=True)
    db.session.commit()
    if not spam_key.matches:
        click.echo(
            "Warning: the spam classifier was learned with another SECRET_KEY, so it no longer "
            "recognises addresses and networks it learned; run 'moderation spam rebuild'.",
            err=True,
        )
    # Workers build their own app and connections; none may be inherited from this process.
    db.session.remove()
    db.engine.dispose()
    click.echo(
        f"Serving on http://{_display_host(host)}:{port} ({workers} process(es), {threads} threads each)"
    )

    from moderation.commands.server import GunicornServer

    metrics_directory = multiprocess.prepare_directory()  # before any process counts
    # Whatever this process built so far (the app, migrations, imports) outlives it: out of
    # the collector's sight, each forked worker neither copies those pages by walking them
    # nor spends seconds collecting them again when it exits (every stop waited on that).
    gc.collect()
    gc.freeze()
    worker = start_delivery_worker() if deliver else None
    server = os.getpid()
    status: int | str | None = 0
    try:
        GunicornServer(
            {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread" if threads > 1 else "sync",
                # A listening socket per process, so the kernel deals connections out
                # evenly (see balanced_listeners).
                "reuse_port": balanced_listeners(workers),
                "timeout": 30,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "info",
                "control_socket_disable": True,
                "child_exit": multiprocess.worker_exited,
            }
        ).run()
    except SystemExit as leaving:  # how gunicorn ends, in the server and in each worker
        status = leaving.code
    finally:
        # A gunicorn worker leaves through here too (its fork returns up this stack by
        # sys.exit): the delivery worker and the metrics folder, which the others still
        # use, are the server's to stop and remove, not a leaving worker's.
        if os.getpid() == server:
            if worker is not None:
                stop_delivery_worker(worker)
            multiprocess.remove_directory(metrics_directory)
    leave_at_once(status)


def leave_at_once(status: int | str | None) -> NoReturn:
    """End this process (the server, or a gunicorn worker leaving through its stack) with
    ``status`` as ``sys.exit`` would, without taking the interpreter apart: freeing the
    app's ~180,000 objects one by one cost 0.05 s of CPU in the server and 0.04 s in each
    worker at every stop, memory the system takes back at once anyway. What an ordinary
    exit does first is done: the log handlers and the standard streams are flushed."""
    if status is None:
        status = 0
    elif not isinstance(status, int):
        print(status, file=sys.stderr)
        status = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def balanced_listeners(workers: int) -> bool:
    """Whether each server process listens on a socket of its own (``SO_REUSEPORT``; gunicorn
    creates them in the workers since 24.0) instead of all sharing the master's.

    A process keeps every connection it accepted for as long as the client keeps it alive.
    On one shared socket the process that wakes first accepts a burst of new connections,
    so a client with a pool of keep-alive connections (a proxy, wrk's 16) often ended up
    entirely on one process while the other idled: half the machine's cores, and req/s
    that swung twofold from run to run (bench/RESULTS.md, "the connections' split"). With
    a socket per process the kernel hashes each new connection to one of them, evenly.

    Trade-offs: a connection waiting in a process's queue when that process stops (a
    timed-out worker, a restart) is reset instead of going to the next process (Linux 5.14+
    hands them over with ``sysctl net.ipv4.tcp_migrate_req=1``); the kernel spreads
    connections without knowing how busy a process is; and another server started on the
    same port by the same user would share it silently (``refuse_a_port_in_use`` stops
    that at start). One process has nothing to balance and keeps gunicorn's shared socket:
    it stays open while the process restarts."""
    return workers > 1 and hasattr(socket, "SO_REUSEPORT")


def refuse_a_port_in_use(host: str, port: int) -> None:
    """Stop with one line when something already listens on ``host:port``: with a socket
    per process (``balanced_listeners``) a second ``moderation serve`` on the same port
    would otherwise start and share the connections of the first without a word."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # as gunicorn binds: a port whose old connections linger (TIME_WAIT) is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is in use (another server listens there)"
                ) from error
            # anything else (an address this machine lacks, say) gunicorn reports itself


def schema_at_head() -> bool:
    """Whether the database already holds every migration this code ships: its
    ``alembic_version`` names exactly the heads of the migration scripts, read from the
    scripts themselves (a new script is a new head, so it is never skipped). A restart then
    forks no child to load Alembic (a quarter of a second of CPU) only to find nothing to do.
    An unreachable database stops the command here, with the one line it gets anyway."""
    from sqlalchemy import inspect

    from moderation.services.readiness import applied_revisions, migration_heads

    try:
        if not inspect(db.engine).has_table("alembic_version"):
            return False
        return applied_revisions() == migration_heads()
    finally:
        db.session.remove()  # no transaction stays open while a migration runs


def upgrade_in_a_child() -> None:
    """Apply the migrations in a forked child, and wait for it. Alembic and the migration
    scripts (about 20 MB) then never enter this process, whose memory every server process
    forked from it starts with. The child says what went wrong as this command would, and
    its exit status becomes this command's."""
    db.engine.dispose()  # the child opens its own connections
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        os._exit(_upgrade_here())
    code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    if code != 0:
        raise SystemExit(code if code > 0 else 1)


def _upgrade_here() -> int:
    """Migrate to the head; the exit status to leave with (in the child)."""
    from flask_migrate import upgrade

    status = 1
    try:
        one_line_errors(upgrade)(directory=str(MIGRATIONS_DIRECTORY))
        status = 0
    except click.ClickException as error:
        error.show()
        status = error.exit_code
    except SystemExit as leaving:  # Flask-Migrate said "Error: ..." and left
        status = leaving.code if isinstance(leaving.code, int) else 1
    except BaseException:  # shown as click shows it; the status stays 1
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return status


def server_processes(requested: int | None, storage: str) -> int:
    """How many processes to run: as asked, else one more than the cores. Limits counted
    in each process's memory would multiply, so memory storage runs one (several are
    refused).

    Why one more: a process runs Python on one core at a time (the GIL), and each request
    passes between its threads (the poller hands the connection to a pool thread, which
    hands it back when the answer is written), each pass a sleep and a wake-up. With one
    process per core, a core idles through those gaps; a spare process runs in them. On
    the quiet 2-core machine (bench/RESULTS.md, the sweep of 2026-11-30 00:40) 3 processes
    of 2 threads served reads 1.04-1.07x as fast as 2 processes, within 10 % of the best
    flags found, where 2 processes were 12-13 % behind. The cost is on a flood of posts
    (16 connections posting without a pause): 0.92 of the rate and a p99 of 192 against
    82 ms, as more writers queue on SQLite's one write lock; more threads would read a
    little faster still but lengthen that p99 further (3x4: 449 ms)."""
    if is_process_local(storage):
        if requested is not None and requested > 1:
            raise click.ClickException(
                "several processes on in-memory rate limits would multiply every limit; "
                "use the default MODERATION_RATELIMIT_STORAGE_URI=sqlite:// (one machine), "
                "redis://... (several), or --workers 1"
            )
        return 1
    return requested or usable_cores() + 1


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_delivery_worker() -> int:
    """The outbound webhook worker (``moderation webhooks deliver``), forked from this
    process, which has the app, its settings and every module it needs already: a new
    interpreter spent a third of a second of CPU and a process's worth of memory building
    them again. It shares nothing it should not: the database connections were closed
    before (it opens its own), gunicorn and its signal handlers come after, and the
    metrics directory is set. It exits when this process is gone; its pid is returned."""
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        os._exit(_deliver_here(parent))
    return child


def _deliver_here(parent: int) -> int:
    """Run the delivery worker until stopped; the exit status to leave with (in the child)."""
    from moderation.commands.webhooks import deliver_until_stopped, delivery_settings

    status = 1
    try:
        one_line_errors(deliver_until_stopped)(delivery_settings(), interval=1.0, parent_pid=parent)
        status = 0
    except click.ClickException as error:
        error.show()
        status = error.exit_code
    except BaseException:  # shown as a worker of its own would have shown it
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return status


def stop_delivery_worker(pid: int, grace: float = 10) -> None:
    """SIGTERM the delivery worker (it finishes the send under way), SIGKILL it after
    ``grace`` seconds, and reap it. One that is gone already (gunicorn's arbiter reaps
    every child of this process that exits) is left alone."""
    deadline = time.monotonic() + grace
    signalled = killed = False
    while True:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # reaped already: the pid is no longer ours to signal
        if done:
            return
        if not signalled:
            os.kill(pid, signal.SIGTERM)
            signalled = True
        elif not killed and time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.02)


def _display_host(host: str) -> str:
    """Where a person on this machine would point a browser."""
    if host in ("0.0.0.0", "::"):  # noqa: S104 - display only
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
