"""The service's log lines: one line each, JSON when ``LOG_FORMAT=json``, ``key=value``
text otherwise.

A line is a short event name and named fields (``log_event(log, "request", status=200)``);
the fields are chosen where the line is written, and none of them may hold an email, a raw
address, a cookie, a token or a secret (tests/test_log_privacy.py scans a server's logs for
them). Requests and background jobs carry an id (``request_id``, ``job_id``) so a report
from a user (the id is on every error page and in the ``X-Request-ID`` header) can be found.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

#: The attribute a record's fields travel in (``extra={FIELDS: {...}}``).
FIELDS = "moderation_fields"
LOG_FORMATS = ("plain", "json")
#: Marks the one handler this module installs, so a second app in the process reuses it.
_HANDLER_NAME = "moderation-stderr"


def log_event(
    logger: logging.Logger,
    event: str,
    level: int = logging.INFO,
    exc_info: BaseException | None = None,
    **fields: Any,
) -> None:
    """Write ``event`` with ``fields`` (and the traceback of ``exc_info``) as one line."""
    if logger.isEnabledFor(level):
        logger.log(level, event, exc_info=exc_info, extra={FIELDS: fields})


@contextmanager
def job(logger: logging.Logger, name: str) -> Iterator[dict[str, Any]]:
    """One line for a background job: its id, name, duration and outcome. The job adds
    counts to the dict it is given (``with job(log, "digests") as fields: fields["sent"] = n``)."""
    fields: dict[str, Any] = {}
    started = time.perf_counter()
    outcome, level = "ok", logging.INFO
    try:
        yield fields
    except Exception as error:
        outcome, level = f"failed ({error.__class__.__name__})", logging.WARNING
        raise
    finally:
        log_event(
            logger,
            "job",
            level,
            job_id=uuid.uuid4().hex[:16],
            job=name,
            outcome=outcome,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            **fields,
        )


def _timestamp(record: logging.LogRecord) -> str:
    return f"{_second(int(record.created))}.{int(record.msecs):03d}Z"


@lru_cache(maxsize=4)
def _second(seconds: int) -> str:
    """The UTC time of a whole second (a busy server writes many lines in each)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "event": ..., <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **getattr(record, FIELDS, {}),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """``<ts> <level> <logger> <event> key=value ...``; a traceback stays one line too."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, FIELDS, {})
        pairs = " ".join(f"{name}={_plain(value)}" for name, value in fields.items())
        line = f"{_timestamp(record)} {record.levelname} {record.name} {record.getMessage()}"
        if pairs:
            line += " " + pairs
        if record.exc_info:
            line += " error=" + json.dumps(self.formatException(record.exc_info))
        return line


#: A plain value holding one of these is written quoted.
_NEEDS_QUOTES = re.compile(r'[ "=\n\t]')


def _plain(value: Any) -> str:
    """A field's value, quoted when it holds spaces or quotes."""
    text = "-" if value is None else str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr


def configure_logging(level: str, log_format: str) -> None:
    """Send the service's lines (logger ``moderation``) to stderr in ``log_format``, once per
    process; a later app in the same process only changes the format and level."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    logger = logging.getLogger("moderation")
    logger.setLevel(level)
    handler = next((h for h in logger.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
