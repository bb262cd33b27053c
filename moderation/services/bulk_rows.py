"""Rows inserted through the database driver, for imports of millions (issue 18).

SQLAlchemy's ``execute(insert(Table), rows)`` costs more Python per row than the insert
itself costs the database. :func:`insert_rows` sends the same values (each converted by
the column type's own bind processor, so what is stored is what SQLAlchemy would store)
straight to the driver, on the session's connection and in its transaction: SQLite an
``executemany``, PostgreSQL one ``COPY … FROM STDIN``.

The columns are the keys of the rows (the first row's, in its order): a new column of the
table is written by adding its key to the rows, nothing else. The driver's errors come
out as SQLAlchemy's (a duplicate key as :class:`sqlalchemy.exc.IntegrityError`), as from
any other statement: callers catch them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    table = cast(Table, clause)
    columns = list(rows[0])
    dialect = connection.dialect
    processors = _processors(table, tuple(columns), dialect)
    pick = itemgetter(*columns)
    values: list[tuple[Any, ...]]
    if len(columns) == 1:
        values = [(row[columns[0]],) for row in rows]
    else:
        values = [pick(row) for row in rows]
    if processors:
        values = [_converted(row, processors) for row in values]
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{column}"' for column in columns)
    driver_error = dialect.loaded_dbapi.Error
    if dialect.name == "postgresql":
        statement = f"COPY {table.name} ({names}) FROM STDIN"
    else:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
    try:
        if dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in values:
                    copy.write_row(row)
            return
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(statement, values)
        finally:
            cursor.close()
    except driver_error as error:
        raise DBAPIError.instance(
            statement, None, error, driver_error, dialect=dialect, ismulti=True
        ) from error


def _converted(
    row: tuple[Any, ...], processors: list[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    values = list(row)
    for index, process in processors:
        value = values[index]
        if value is not None:
            values[index] = process(value)
    return tuple(values)


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
