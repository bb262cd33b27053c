"""Reading numbers that come from outside (ids, page numbers): ASCII digits only, and
no larger than any id the schema can hold."""

from __future__ import annotations

import re

#: Ids are INTEGER columns (32-bit on PostgreSQL, which refuses to even compare a larger
#: number with one: a DataError, not "no row"), so a larger number names nothing.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value: object) -> int | None:
    """A positive id from text or an int, or ``None`` for anything else ("²", "1e9", 10**30)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def parse_page(value: object, default: int = 1) -> int:
    """A page number from a query string; anything odd means the first page."""
    number = parse_id(value)
    return number if number is not None and number < 1_000_000 else default
