"""Reading files of JSON lines (Remark42's backups, our exports) one bounded line at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from moderation.porting.records import Refusal, RefusalReason

#: The longest line read; longer ones are refused without being held (a comment at the
#: service's limit needs under 0.4 MiB even with every character escaped).
MAX_LINE_BYTES = 64 << 20
_READ_BYTES = 1 << 20


def json_lines(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | Refusal]]:
    """``(line number, object)`` for each non-empty line, or a refusal saying why the line
    cannot be used (too long, not UTF-8, not JSON, not an object)."""
    number = 0
    while True:
        line = stream.readline(_READ_BYTES)
        if not line:
            return
        number += 1
        if not line.endswith(b"\n") and len(line) == _READ_BYTES:
            line, complete = _rest_of_line(stream, line)
            if not complete:
                yield number, _unreadable(number, f"longer than {MAX_LINE_BYTES >> 20} MiB")
                continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except UnicodeDecodeError as error:
            yield number, _unreadable(number, f"not UTF-8 at byte {error.start}")
            continue
        except ValueError as error:
            yield number, _unreadable(number, f"not JSON ({error})")
            continue
        if not isinstance(value, dict):
            yield number, _unreadable(number, "not a JSON object")
            continue
        yield number, value


def _rest_of_line(stream: IO[bytes], start: bytes) -> tuple[bytes, bool]:
    """The whole line that begins with ``start``, or (b"", False) after skipping past its
    end when it is longer than :data:`MAX_LINE_BYTES`."""
    parts, size = [start], len(start)
    while True:
        more = stream.readline(_READ_BYTES)
        size += len(more)
        if size > MAX_LINE_BYTES:
            parts.clear()
            while more and not more.endswith(b"\n"):
                more = stream.readline(_READ_BYTES)
            return b"", False
        parts.append(more)
        if not more or more.endswith(b"\n"):
            return b"".join(parts), True


def _unreadable(number: int, why: str) -> Refusal:
    """The refusal of line ``number``."""
    return Refusal(
        source_id=None, reason=RefusalReason.UNREADABLE_RECORD, detail=f"line {number}: {why}"
    )


def text_field(value: object) -> str | None:
    """A JSON value as text: strings as they are, numbers written out, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
