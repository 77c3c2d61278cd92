"""Reading the rows whose column holds one of many values, with no per-value statement work.

A page looks up its 250 links by vendor id and its identifiers by kind and value.
Through ``select(...).where(column.in_(values))`` SQLAlchemy built the
statement, generated its cache key and rendered one bind per value on every
page, which cost as much as the database's own work on the query. Here the SQL
is made once per table, columns, filter and dialect, only the list of
placeholders per count, and the values go straight to the driver. Result
columns go through their types' own result processors (booleans, JSON,
timestamps), so rows come back as a Core select would give them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlmodel import Session

from hub.store.bulk import Processor

__all__ = ["select_in", "select_pairs"]


def select_in(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    column: str,
    values: Sequence[Any],
    **equal: Any,
) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE k = v ... AND column IN values``, in the session.

    The filtered columns must be of types bound as given (strings, integers).
    """
    if not values:
        return []
    connection = session.connection()
    head, quoted, mark, processors = _prepared(table, columns, (*equal, column), connection.dialect)
    where = [f"{quoted[name]} = {mark}" for name in equal]
    where.append(f"{quoted[column]} IN ({', '.join([mark] * len(values))})")
    sql = head + " AND ".join(where)
    return _rows(connection, sql, (*equal.values(), *values), processors)


def select_pairs(
    session: Session,
    table: Table,
    columns: tuple[str, ...],
    pairs: tuple[str, str],
    groups: Mapping[Any, Sequence[Any]],
) -> list[tuple[Any, ...]]:
    """The rows whose two ``pairs`` columns hold one of the pairs ``groups`` lists.

    ``(a = x AND b IN (...)) OR (a = y AND b IN (...))``: each arm is an index
    search where a row-value ``(a, b) IN (...)`` may be planned as a scan.
    """
    groups = {first: seconds for first, seconds in groups.items() if seconds}
    if not groups:
        return []
    connection = session.connection()
    head, quoted, mark, processors = _prepared(table, columns, pairs, connection.dialect)
    a, b = (quoted[name] for name in pairs)
    sql = head + " OR ".join(
        f"({a} = {mark} AND {b} IN ({', '.join([mark] * len(seconds))}))"
        for seconds in groups.values()
    )
    params = [value for first, seconds in groups.items() for value in (first, *seconds)]
    return _rows(connection, sql, params, processors)


def _rows(
    connection: Connection, sql: str, params: Sequence[Any], processors: tuple[Processor, ...]
) -> list[tuple[Any, ...]]:
    rows = connection.exec_driver_sql(sql, tuple(params)).fetchall()
    if not any(processors):
        return [tuple(row) for row in rows]
    indexed = list(enumerate(processors))
    return [tuple(row[i] if p is None else p(row[i]) for i, p in indexed) for row in rows]


@lru_cache(maxsize=64)
def _prepared(
    table: Table, columns: tuple[str, ...], filtered: tuple[str, ...], dialect: Dialect
) -> tuple[str, dict[str, str], str, tuple[Processor, ...]]:
    """``SELECT ... WHERE ``, the quoted names, the placeholder and the result processors."""
    for name in filtered:
        if table.c[name].type.dialect_impl(dialect).bind_processor(dialect) is not None:
            raise ValueError(f"cannot bind {table.name}.{name} as given")
    quote = dialect.identifier_preparer.quote
    quoted = {key: quote(table.c[key].name) for key in (*columns, *filtered)}
    head = f"SELECT {', '.join(quoted[key] for key in columns)} FROM {quote(table.name)} WHERE "
    processors = tuple(
        table.c[key].type.dialect_impl(dialect).result_processor(dialect, None) for key in columns
    )
    return head, quoted, "?" if dialect.paramstyle == "qmark" else "%s", processors
