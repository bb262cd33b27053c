"""A list of values sent as one bound parameter, a JSON array of strings:
``column = ANY(ARRAY(SELECT json_array_elements_text(:values)))`` on PostgreSQL,
``column IN (SELECT value FROM json_each(:values))`` on SQLite.

SQLAlchemy's expanding ``IN`` writes one placeholder per value, so a statement whose list
changes length is rewritten on every execution and prepared anew by the database; with one
parameter the statement text never changes. JSON rather than a PostgreSQL array: psycopg
writes an array parameter element by element in Python (a submission's ~50 features cost
more to send that way than the rest of its first read), ``json.dumps`` in C. On PostgreSQL
the array is built once per statement (an InitPlan), so the index is used as with an
array parameter. Used on the submission's hot path (the classifier's counts, the block
list's candidates), where the lists change every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, any_, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute


def one_of(
    column: ColumnElement[str] | InstrumentedAttribute[str], name: str, dialect: str
) -> ColumnElement[bool]:
    """``column`` is one of the strings bound as ``name`` (see :func:`list_value`)."""
    if dialect == "postgresql":
        elements = select(
            func.json_array_elements_text(cast(bindparam(name, type_=String), postgresql.JSON))
        )
        return column == any_(func.array(elements.scalar_subquery()))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def list_value(values: Iterable[str], _dialect: str) -> object:
    """The parameter :func:`one_of` expects for ``values`` (on any dialect)."""
    return json.dumps(list(values), ensure_ascii=False)
