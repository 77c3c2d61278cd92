"""Bulk INSERT of many rows with one driver ``executemany`` and no per-row statement work.

``session.execute(insert(table), rows)`` builds a parameter set per row
through the compiled statement (key checks, defaults, expanding binds) before
the driver sees it; for the pages of customers, links and identifiers a pull
writes, that bookkeeping cost as much as SQLite's own work on the rows. Here
the statement is compiled once per table, column set and dialect, and each
row goes through the columns' own bind processors (the same the ORM path
would apply: JSON encoding, UTC timestamps, booleans) straight into a tuple
or dict for the driver. Rows must all have the same keys.

A page's rows share many values (the page's timestamp, ``False``, ``None``):
a column's value that is the very object the row before held is not put
through its processor again, since a processor gives the same result for the
same value. A value the caller has
already encoded (:class:`Encoded`, e.g. JSON text it had at hand) skips the
processor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlmodel import Session

__all__ = ["Encoded", "insert_rows"]

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class Encoded:
    """A column value already in the form the driver takes (JSON columns: the JSON text)."""

    value: Any


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    sql, keys, processors, positional = _compiled(table, tuple(rows[0]), connection.dialect)
    columns = [_bound([row[k] for row in rows], p) for k, p in zip(keys, processors, strict=True)]
    tuples = zip(*columns, strict=True)
    params: list[Any] = (
        list(tuples) if positional else [dict(zip(keys, v, strict=True)) for v in tuples]
    )
    connection.exec_driver_sql(sql, params)


def _bound(values: list[Any], process: Processor) -> list[Any]:
    """A column's values as the driver takes them; a repeat of the row before's is not redone."""
    if process is None:
        return [value.value if type(value) is Encoded else value for value in values]
    out = []
    last: Any = _bound  # no value is this function
    bound = None
    for value in values:
        if value is not last:
            last = value
            bound = value.value if type(value) is Encoded else process(value)
        out.append(bound)
    return out


@lru_cache(maxsize=128)
def _compiled(
    table: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[Processor, ...], bool]:
    """The INSERT's SQL in the dialect's parameter style, its parameter order, the processors."""
    compiled = insert(table).compile(
        dialect=dialect, column_keys=list(columns), for_executemany=True
    )
    positional = bool(compiled.positional)
    keys = tuple(compiled.positiontup or ()) if positional else tuple(compiled.params)
    if set(keys) != set(columns):  # a column default or a renamed bind: not a plain insert
        raise ValueError(f"insert_rows cannot insert {columns} into {table.name}: {keys}")
    processors = tuple(
        table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys
    )
    return str(compiled), keys, processors, positional
