"""Hot write statements compiled once per dialect and sent as their SQL text.

``Connection.execute`` of a Core statement looks the compiled form up in the cache, builds
every parameter (defaults included) and converts each through its type on every call:
about 100,000 CPU instructions for a 20-column insert, twice what SQLite takes to run it.
A :class:`Prepared` statement does the lookup and the choice of converters once, and each
execution converts only the values it is given and runs the text through
``Connection.exec_driver_sql``: the same connection, transaction, events and error
wrapping as any statement. Used on the comment submission's writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler

#: A type's conversion of a Python value for the driver (``None``: the value as it is).
Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    """A statement's SQL for one dialect, its parameters in order and their converters."""

    sql: str
    #: the parameters' names in the order the SQL takes them
    names: tuple[str, ...]
    converters: tuple[Converter, ...]
    #: values bound in the statement itself (literals, constants), by name
    fixed: Mapping[str, Any]
    #: the driver takes a tuple (``?``, ``$1``), not a mapping (``%(name)s``)
    positional: bool
    #: a SELECT's columns: their names and their types' conversions of what the driver
    #: returns (``None``: the value as it is)
    columns: tuple[str, ...] = ()
    column_converters: tuple[Converter, ...] = ()

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> CursorResult[Any]:
        """Run on ``connection`` with ``params`` (every parameter the statement names
        that it does not fix itself)."""
        values = [params[name] if name in params else self.fixed[name] for name in self.names]
        converted = [
            value if convert is None else convert(value)
            for convert, value in zip(self.converters, values, strict=True)
        ]
        if self.positional:
            return connection.exec_driver_sql(self.sql, tuple(converted))
        return connection.exec_driver_sql(self.sql, dict(zip(self.names, converted, strict=True)))

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """A SELECT's first row, its values converted as a Core statement's row converts
        them and read by column name (``None`` when there is none)."""
        row = self.execute(connection, params).first()
        if row is None:
            return None
        return SimpleNamespace(
            **{
                name: value if convert is None else convert(value)
                for name, convert, value in zip(
                    self.columns, self.column_converters, row, strict=True
                )
            }
        )


def prepare(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...] = ()) -> Prepared:
    """``statement`` compiled for ``dialect`` (an ``INSERT`` without values for the columns
    named in ``keys``). Refuses a statement whose execution would fill in a column default
    in Python: a prepared statement sends only what it is given."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise ValueError("a prepared statement cannot fill in column defaults")
    if any(bind.expanding or bind.literal_execute for bind in compiled.binds.values()):
        raise ValueError("a prepared statement's text cannot change with its values")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
    converters = []
    fixed = {}
    for name in names:
        bind = compiled.binds[name]
        converters.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
        if bind.value is not None or not bind.required:
            fixed[name] = bind.effective_value
    columns: list[str] = []
    column_converters: list[Converter] = []
    if isinstance(statement, Select):
        for column in statement.selected_columns:
            if column.key is None or column.key in columns:
                raise ValueError("a prepared SELECT's columns need names of their own")
            columns.append(column.key)
            column_converters.append(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
            )
    return Prepared(
        compiled.string,
        names,
        tuple(converters),
        fixed,
        positional,
        tuple(columns),
        tuple(column_converters),
    )


@lru_cache(maxsize=64)
def prepared(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...] = ()) -> Prepared:
    """:func:`prepare`, once per statement, dialect (an engine's) and ``keys``."""
    return prepare(statement, dialect, keys)
