"""Rows inserted through the database driver, for imports of millions (issue 18).

SQLAlchemy's ``execute(insert(Table), rows)`` costs more Python per row than the insert
itself costs the database. :func:`insert_rows` sends the same values (each converted by
the column type's own bind processor, so what is stored is what SQLAlchemy would store)
straight to the driver, on the session's connection and in its transaction: SQLite an
``executemany``, PostgreSQL one ``COPY … FROM STDIN``. :func:`add_to_rows` does the same
for counts that grow (``INSERT … ON CONFLICT DO UPDATE`` adding the new values).

The columns are the keys of the rows (the first row's, in its order): a new column of the
table is written by adding its key to the rows, nothing else. The driver's errors come
out as SQLAlchemy's (a duplicate key as :class:`sqlalchemy.exc.IntegrityError`), as from
any other statement: callers catch them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, FromClause, Table
from sqlalchemy.exc import DBAPIError


def insert_rows(
    connection: Connection, clause: FromClause, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (all with the same keys) into the table ``clause`` on ``connection``."""
    if not rows:
        return
    table, columns, values = _values(connection, clause, rows)
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{column}"' for column in columns)
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table.name} ({names}) FROM STDIN"
        with (
            _driver_errors(connection, statement),
            raw.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(statement) as copy,
        ):
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
    _execute_many(connection, statement, values)


def add_to_rows(
    connection: Connection,
    clause: FromClause,
    keys: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Insert ``rows`` (all with the same keys, no two with the same ``keys`` values);
    where the table has a row with those ``keys`` already, add the row's other values to
    its own. In the order given (two writers then lock rows in the same order): SQLite an
    ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE``, PostgreSQL one such statement
    over arrays (the server works through a batch at once, not statement by statement).
    """
    if not rows:
        return
    table, columns, values = _values(connection, clause, rows)
    names = ", ".join(f'"{column}"' for column in columns)
    added = ", ".join(
        f'"{column}" = {table.name}."{column}" + excluded."{column}"'
        for column in columns
        if column not in keys
    )
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608
        _execute_many(connection, statement, values)
        return
    arrays = ", ".join(
        f"%s::{table.c[column].type.compile(connection.dialect)}[]" for column in columns
    )
    statement = (
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM unnest({arrays}) "  # noqa: S608
        f"WITH ORDINALITY AS given({names}, position) ORDER BY position {conflict}"
    )
    raw = connection.connection.driver_connection
    with _driver_errors(connection, statement), raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(statement, [list(column) for column in zip(*values, strict=True)])


def _values(
    connection: Connection, clause: FromClause, rows: Sequence[Mapping[str, Any]]
) -> tuple[Table, list[str], list[tuple[Any, ...]]]:
    """The table, its columns named by the first row's keys, and each row's values as the
    column types' bind processors make them."""
    table = cast(Table, clause)
    columns = list(rows[0])
    processors = _processors(table, tuple(columns), connection.dialect)
    pick = itemgetter(*columns)
    values: list[tuple[Any, ...]]
    if len(columns) == 1:
        values = [(row[columns[0]],) for row in rows]
    else:
        values = [pick(row) for row in rows]
    if processors:
        values = _converted(values, processors)
    return table, columns, values


def _execute_many(connection: Connection, statement: str, values: list[tuple[Any, ...]]) -> None:
    """``statement`` once per row of ``values``, by the driver (SQLite)."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with _driver_errors(connection, statement):
            cursor.executemany(statement, values)
    finally:
        cursor.close()


@contextmanager
def _driver_errors(connection: Connection, statement: str) -> Iterator[None]:
    """The driver's errors raised as SQLAlchemy's (a duplicate key: IntegrityError)."""
    dialect = connection.dialect
    driver_error = dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as error:
        raise DBAPIError.instance(
            statement, None, error, driver_error, dialect=dialect, ismulti=True
        ) from error


def _converted(
    rows: list[tuple[Any, ...]], processors: list[tuple[int, Callable[[Any], Any]]]
) -> list[tuple[Any, ...]]:
    """``rows`` with each value of a column that has a processor converted by it.

    Column by column (the rows taken apart and put back together by ``zip``, in C: most
    columns have no processor). A value that is the very object met before in the same
    column (an enum member, a flag, the import's one "now") is converted once: a
    processor is a function of its value, and every row is alive until the end, so no
    object's ``id`` is reused here.
    """
    columns = list(zip(*rows, strict=True))
    for index, process in processors:
        done: dict[int, tuple[Any, Any]] = {}
        converted: list[Any] = []
        for value in columns[index]:
            if value is None:
                converted.append(None)
                continue
            known = done.get(id(value), _UNSEEN)
            if known is _UNSEEN or known[0] is not value:
                known = done[id(value)] = (value, process(value))
            converted.append(known[1])
        columns[index] = tuple(converted)
    return list(zip(*columns, strict=True))


_UNSEEN: Any = object()


@lru_cache(maxsize=64)
def _processors(
    table: Table, columns: tuple[str, ...], dialect: Any
) -> list[tuple[int, Callable[[Any], Any]]]:
    """Each column's bind processor (only those that have one), by position."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found.append((index, process))
    return found
