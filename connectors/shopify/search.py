"""Shopify's search syntax for the ``query:`` argument, as far as the sandbox needs it.

``updated_at:>'2024-05-01T10:00:00Z' AND email:ann@example.com`` is a list of
terms joined by spaces or ``AND``; each is ``field:value`` with an optional
comparison (``>``, ``>=``, ``<``, ``<=``) and a value in single or double quotes
when it holds spaces. Dates may be a day or a full timestamp with a zone.
Shopify ignores terms on fields a resource cannot be searched by, and so does
this parser (they match everything).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["matcher", "parse_time"]

_TERM = re.compile(r"""(\w+):(>=|<=|>|<)?("[^"]*"|'[^']*'|\S+)""")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "": operator.eq,
}
_TIMES = {"updated_at": "updatedAt", "created_at": "createdAt", "processed_at": "processedAt"}

Node = dict[str, Any]


def parse_time(value: str) -> datetime:
    """A search or stored time; a bare day is midnight UTC, as Shopify reads it."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def matcher(query: str | None) -> Callable[[Node], bool]:
    """A predicate over stored nodes for ``query``; None or blank matches all."""
    tests: list[Callable[[Node], bool]] = []
    for field, op, raw in _TERM.findall(query or ""):
        value = raw[1:-1] if raw[:1] in "'\"" else raw
        compare = _COMPARE[op]
        if field in _TIMES:
            tests.append(_time_test(_TIMES[field], compare, parse_time(value)))
        elif field == "email":
            tests.append(_email_test(value.casefold()))
        elif field == "tag":
            tests.append(_tag_test(value))
        elif field == "id":
            tests.append(_id_test(compare, int(value)))
    return lambda node: all(test(node) for test in tests)


def _email_test(wanted: str) -> Callable[[Node], bool]:
    return lambda node: (node.get("email") or "").casefold() == wanted


def _tag_test(tag: str) -> Callable[[Node], bool]:
    return lambda node: tag in (node.get("tags") or [])


def _id_test(compare: Callable[[Any, Any], bool], number: int) -> Callable[[Node], bool]:
    return lambda node: compare(int(node["id"].rsplit("/", 1)[1]), number)


def _time_test(
    key: str, compare: Callable[[Any, Any], bool], bound: datetime
) -> Callable[[Node], bool]:
    return lambda node: bool(node.get(key)) and compare(parse_time(node[key]), bound)
