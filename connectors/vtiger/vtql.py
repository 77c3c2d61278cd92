"""The part of vTiger's query language (VTQL) the sandbox answers, as its docs describe it.

``select * | field, ... from Module [where cond [and|or cond ...]]
[order by field [asc|desc]] [limit [offset,] count];`` where a condition is
``field op 'value'`` with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` or
``like`` (``%`` wildcards). There are no parentheses: ``and`` binds tighter
than ``or``. The statement must end with ``;``, and at most 100 rows come back.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_ROWS", "Query", "QueryError", "parse"]

MAX_ROWS = 100
_STATEMENT = re.compile(
    r"^\s*select\s+(?P<fields>\*|[\w\s,]+?)\s+from\s+(?P<module>\w+)"
    r"(?:\s+where\s+(?P<where>.+?))?"
    r"(?:\s+order\s+by\s+(?P<order>\w+)(?:\s+(?P<direction>asc|desc))?)?"
    r"(?:\s+limit\s+(?:(?P<offset>\d+)\s*,\s*)?(?P<count>\d+))?\s*;\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(\w+)\s*(<=|>=|!=|=|<|>|like)\s*'((?:[^']|'')*)'\s*$", re.I)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "like": lambda value, pattern: fnmatch.fnmatchcase(
        str(value).casefold(), pattern.casefold().replace("%", "*")
    ),
}


class QueryError(ValueError):
    """Not a statement vTiger would run; it answers ``QUERY_SYNTAX_ERROR``."""


@dataclass(frozen=True, slots=True)
class Query:
    module: str
    fields: tuple[str, ...] | None
    where: tuple[tuple[tuple[str, str, str], ...], ...]
    """Conditions in disjunctive form: any group whose conditions all hold."""
    order: str | None
    descending: bool
    offset: int
    count: int

    def run(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = [row for row in rows if self._matches(row)]
        if self.order:
            found.sort(
                key=lambda row: str(row.get(self.order or "") or ""), reverse=self.descending
            )
        page = found[self.offset : self.offset + self.count]
        if self.fields is None:
            return page
        return [{"id": row["id"]} | {f: row.get(f, "") for f in self.fields} for row in page]

    def _matches(self, row: dict[str, Any]) -> bool:
        if not self.where:
            return True
        return any(
            all(_OPERATORS[op](str(row.get(field, "")), value) for field, op, value in group)
            for group in self.where
        )


def parse(statement: str) -> Query:
    match = _STATEMENT.match(statement)
    if match is None:
        raise QueryError(f"Syntax Error on query: {statement[:80]!r}")
    fields = match["fields"].strip()
    return Query(
        module=match["module"],
        fields=None if fields == "*" else tuple(f.strip() for f in fields.split(",")),
        where=_where(match["where"]) if match["where"] else (),
        order=match["order"],
        descending=(match["direction"] or "").lower() == "desc",
        offset=int(match["offset"] or 0),
        count=min(int(match["count"] or MAX_ROWS), MAX_ROWS),
    )


def _where(text: str) -> tuple[tuple[tuple[str, str, str], ...], ...]:
    groups = []
    for alternative in re.split(r"\s+or\s+", text, flags=re.I):
        group = []
        for condition in re.split(r"\s+and\s+", alternative, flags=re.I):
            match = _CONDITION.match(condition)
            if match is None:
                raise QueryError(f"Syntax Error on condition: {condition.strip()[:80]!r}")
            field, op, value = match.groups()
            group.append((field, op.lower(), value.replace("''", "'")))
        groups.append(tuple(group))
    return tuple(groups)
