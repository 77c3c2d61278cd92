"""Bulk INSERT of many rows with one driver ``executemany`` and no per-row statement work.

``session.execute(insert(table), rows)`` builds a parameter set per row
through the compiled statement (key checks, defaults, expanding binds) before
the driver sees it; for the pages of customers, links and identifiers a pull
writes, that bookkeeping cost as much as SQLite's own work on the rows. Here
the statement is compiled once per table, column set and dialect, and each
row goes through the columns' own bind processors (the same the ORM path
would apply: JSON encoding, UTC timestamps, booleans) straight into a tuple
or dict for the driver. Rows must all have the same keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlmodel import Session

__all__ = ["insert_rows"]

Processor = Callable[[Any], Any] | None


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    sql, keys, processors, positional = _compiled(table, tuple(rows[0]), connection.dialect)
    pairs = [(k, p if p is None else _last_kept(p)) for k, p in zip(keys, processors, strict=True)]
    if positional:
        params: list[Any] = [
            tuple([row[k] if p is None else p(row[k]) for k, p in pairs]) for row in rows
        ]
    else:
        params = [{k: row[k] if p is None else p(row[k]) for k, p in pairs} for row in rows]
    connection.exec_driver_sql(sql, params)


_NOTHING = object()


def _last_kept(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` converting a value once when rows in a row hold that same object.

    A page's rows share one ``now`` for their timestamps, whose conversion
    (to UTC, then SQLite's text form) cost as much as a JSON column's. An
    identity test, safe within one statement: the value is held, so its id
    cannot be reused, and no row changes while its parameters are built.
    """
    last_in: Any = _NOTHING
    last_out: Any = None

    def run(value: Any) -> Any:
        nonlocal last_in, last_out
        if value is not last_in:
            last_out = process(value)
            last_in = value
        return last_out

    return run


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
