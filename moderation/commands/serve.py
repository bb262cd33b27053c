"""``moderation serve``: migrate, bootstrap on first start, serve with gunicorn."""

from __future__ import annotations

import errno
import gc
import os
import socket
import subprocess
import sys
import traceback
from pathlib import Path

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
    worker = start_delivery_worker() if deliver else None
    # Whatever this process built so far (the app, migrations, imports) outlives it: out of
    # the collector's sight, each forked worker neither copies those pages by walking them
    # nor spends seconds collecting them again when it exits (every stop waited on that).
    gc.collect()
    gc.freeze()
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
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
        multiprocess.remove_directory(metrics_directory)


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
    the quiet 2-core machine (bench/RESULTS.md, the 22:15 sweep) 3 processes of 2 threads
    served reads 1.02-1.20x as fast as 2 processes, posts 1.05x, and the posts' p99 stayed
    (103 against 111 ms at 19:18); more threads too would read faster still but make the
    posts' p99 several times longer (more writers queue on SQLite's one write lock)."""
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


def start_delivery_worker() -> subprocess.Popen[bytes]:
    """The outbound webhook worker, as a child that exits with this process."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "moderation",
            "webhooks",
            "deliver",
            "--parent-pid",
            str(os.getpid()),
        ]
    )


def _display_host(host: str) -> str:
    """Where a person on this machine would point a browser."""
    if host in ("0.0.0.0", "::"):  # noqa: S104 - display only
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
