"""A list of values sent as one bound parameter: ``column = ANY(:values)`` on PostgreSQL
(an array), ``column IN (SELECT value FROM json_each(:values))`` on SQLite (a JSON array).

SQLAlchemy's expanding ``IN`` writes one placeholder per value, so a statement whose list
changes length is rewritten on every execution and prepared anew by the database; with one
parameter the statement text never changes. Used on the submission's hot path (the
classifier's counts, the block list's candidates), where the lists change every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute


def one_of(
    column: ColumnElement[str] | InstrumentedAttribute[str], name: str, dialect: str
) -> ColumnElement[bool]:
    """``column`` is one of the strings bound as ``name`` (see :func:`list_value`)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def list_value(values: Iterable[str], dialect: str) -> object:
    """The parameter :func:`one_of` expects for ``values`` on ``dialect``."""
    if dialect == "postgresql":
        return list(values)
    return json.dumps(list(values), ensure_ascii=False)
