"""Dates as sources write them, read into aware UTC datetimes.

Fast path: ISO 8601 in any of its common spellings (``T`` or a space, ``Z`` or an offset,
any number of fractional digits). Then RFC 2822 (``Tue, 14 Jan 2014 17:31:03 +0000``),
Unix timestamps (seconds, or milliseconds when 13 digits), and a few slashed forms. A
date without a zone is taken as UTC; one that cannot be read gives None, and the reader
refuses the record with the value in the reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

#: "Never": WordPress writes this for dates it does not have, Go for its zero time.
_NO_DATES = frozenset({"", "0000-00-00 00:00:00", "0001-01-01T00:00:00Z", "0"})
_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH = re.compile(r"-?\d{9,13}(\.\d+)?")
_SLASHED_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d.%m.%Y %H:%M:%S")
#: Python's datetime ends at year 9999; anything past is a broken value.
_LATEST_TIMESTAMP = 253_402_300_799


def parse_datetime(value: str | float | None) -> datetime | None:
    """``value`` as an aware UTC datetime, or None when it is empty or cannot be read."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_timestamp(float(value))
    text = value.strip()
    if text in _NO_DATES:
        return None
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_slowly(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_slowly(text: str) -> datetime | None:
    """The less common spellings; None when none fits."""
    if _EPOCH.fullmatch(text):
        number = float(text)
        return _from_timestamp(number / 1000 if abs(number) >= 1e12 else number)
    trimmed = _FRACTION.sub(r"\1", text.replace(" UTC", "Z").replace(" GMT", "Z"))
    try:
        return datetime.fromisoformat(trimmed)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for pattern in _SLASHED_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _from_timestamp(seconds: float) -> datetime | None:
    """A Unix timestamp as UTC, or None when it is not a number a calendar can hold."""
    if seconds != seconds or not 0 <= seconds <= _LATEST_TIMESTAMP:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def format_datetime(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 with ``Z``, microseconds only when it has them."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"
