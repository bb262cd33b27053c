"""Several processes, one set of numbers: ``moderation serve`` gives its gunicorn workers
and its delivery worker a shared ``PROMETHEUS_MULTIPROC_DIR`` before any of them counts,
emptied at each start, and tells the client library when a worker exits
(https://prometheus.github.io/client_python/multiprocess/)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_directory() -> str | None:
    """Point this process and its children at a metrics directory: the operator's
    (``PROMETHEUS_MULTIPROC_DIR``, cleared of the files of processes that are gone: a
    delivery worker of another unit may be writing there) or a new temporary one, which is
    returned so the caller removes it when the server stops."""
    configured = os.environ.get(VARIABLE)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            if not _alive(stale):
                stale.unlink()
        created = None
    else:
        created = tempfile.mkdtemp(prefix="moderation-metrics-")
        os.environ[VARIABLE] = created
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported before the variable was set: switch it over now
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return created


def _alive(values_file: Path) -> bool:
    """Whether the process that writes ``values_file`` (``counter_<pid>.db``) still runs."""
    pid = values_file.stem.rpartition("_")[2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: running
    return True


def remove_directory(created: str | None) -> None:
    """Remove the temporary directory :func:`prepare_directory` made."""
    if created:
        shutil.rmtree(created, ignore_errors=True)


def worker_exited(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: the worker's live values no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
