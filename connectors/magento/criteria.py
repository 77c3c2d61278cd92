"""Magento's ``searchCriteria`` query-string grammar, both ways.

The connector writes it (:func:`encode`) and the sandbox reads and applies it
(:func:`parse`, :meth:`Criteria.select`), so both sides share one reading of
the documented rules (performing-searches.md, copied in
tests/fixtures/vendor/magento2/):

- ``searchCriteria[filter_groups][i][filters][j][field|value|condition_type]``;
  filters in one group are ORed, groups are ANDed; ``condition_type`` defaults
  to ``eq``. The OpenAPI schema spells the same keys ``filterGroups`` and
  ``conditionType``; Magento accepts both, and so does :func:`parse`.
- ``in``/``nin``/``finset``/``nfinset`` take comma-separated values; ``like``
  and ``nlike`` take SQL wildcards (``%`` any run, ``_`` one character);
  ``from``/``to`` are the ends of a range; ``null``/``notnull`` ignore the value.
- ``searchCriteria[sortOrders][k][field|direction]``: direction defaults to
  descending, as the page says.
- ``searchCriteria[pageSize]`` (absent: every match) and
  ``searchCriteria[currentPage]`` (from 1). A page past the end is the last
  page again, as Magento's collections clamp the page number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["CONDITIONS", "Criteria", "CriteriaError", "Filter", "Sort", "encode", "parse"]

_KEY = re.compile(r"^searchCriteria((?:\[[A-Za-z_0-9]*\])+)$")
_ALIASES = {
    "filterGroups": "filter_groups",
    "conditionType": "condition_type",
    "sort_orders": "sortOrders",
    "page_size": "pageSize",
    "current_page": "currentPage",
}


class CriteriaError(ValueError):
    """A query the API refuses, in Magento's words: ``message`` with ``%1`` placeholders."""

    def __init__(self, message: str, *parameters: str) -> None:
        super().__init__(message)
        self.message, self.parameters = message, list(parameters)


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    value: str = ""
    condition_type: str = "eq"


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    direction: str = "DESC"


def encode(
    groups: Sequence[Sequence[Filter]],
    *,
    sort: Sequence[Sort] = (),
    page_size: int | None = None,
    current_page: int | None = None,
) -> dict[str, str]:
    """Query parameters for these filter groups (AND of ORs), sort orders and page."""
    params: dict[str, str] = {}
    for i, group in enumerate(groups):
        for j, one in enumerate(group):
            stem = f"searchCriteria[filter_groups][{i}][filters][{j}]"
            params[f"{stem}[field]"] = one.field
            params[f"{stem}[value]"] = one.value
            params[f"{stem}[condition_type]"] = one.condition_type
    for k, order in enumerate(sort):
        params[f"searchCriteria[sortOrders][{k}][field]"] = order.field
        params[f"searchCriteria[sortOrders][{k}][direction]"] = order.direction
    if page_size is not None:
        params["searchCriteria[pageSize]"] = str(page_size)
    if current_page is not None:
        params["searchCriteria[currentPage]"] = str(current_page)
    return params


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _compare(stored: Any, wanted: str) -> int | None:
    """-1/0/1 as SQL would order them: numerically when both are numbers, else as text."""
    if stored is None:
        return None
    a, b = _number(stored), _number(wanted)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    text = str(stored).lower() if not isinstance(stored, bool) else str(int(stored))
    return (text > wanted.lower()) - (text < wanted.lower())


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _in(stored: Any, wanted: str) -> bool:
    return any(_compare(stored, one.strip()) == 0 for one in wanted.split(","))


def _in_set(stored: Any, wanted: str) -> bool:
    held = {one.strip() for one in str(stored or "").split(",")}
    return wanted.strip() in held


Test = Callable[[Any, str], bool]
CONDITIONS: Mapping[str, Test] = {
    "eq": lambda s, v: _compare(s, v) == 0,
    "neq": lambda s, v: _compare(s, v) not in (0, None),
    "gt": lambda s, v: _compare(s, v) == 1,
    "gteq": lambda s, v: _compare(s, v) in (0, 1),
    "moreq": lambda s, v: _compare(s, v) in (0, 1),
    "from": lambda s, v: _compare(s, v) in (0, 1),
    "lt": lambda s, v: _compare(s, v) == -1,
    "lteq": lambda s, v: _compare(s, v) in (0, -1),
    "to": lambda s, v: _compare(s, v) in (0, -1),
    "like": lambda s, v: s is not None and bool(_like(v).match(str(s))),
    "nlike": lambda s, v: s is not None and not _like(v).match(str(s)),
    "in": lambda s, v: s is not None and _in(s, v),
    "nin": lambda s, v: s is not None and not _in(s, v),
    "finset": lambda s, v: _in_set(s, v),
    "nfinset": lambda s, v: s is not None and not _in_set(s, v),
    "null": lambda s, v: s is None,
    "notnull": lambda s, v: s is not None,
}
"""``condition_type`` -> test of (stored value, query value), with SQL's NULL rules."""


@dataclass(frozen=True, slots=True)
class Criteria:
    groups: tuple[tuple[Filter, ...], ...] = ()
    sort: tuple[Sort, ...] = ()
    page_size: int | None = None
    current_page: int = 1

    def select(
        self, rows: Sequence[Mapping[str, Any]], value_of: Callable[[Mapping[str, Any], str], Any]
    ) -> tuple[list[Mapping[str, Any]], int]:
        """(the rows of the requested page, how many rows match in all).

        ``value_of(row, field)`` reads a searchable field; it raises
        :class:`CriteriaError` for a field the entity does not have.
        """
        for name in [f.field for group in self.groups for f in group] + [
            s.field for s in self.sort
        ]:
            value_of({}, name)  # an unknown field is refused even when nothing is stored
        matched = [
            row
            for row in rows
            if all(
                any(CONDITIONS[f.condition_type](value_of(row, f.field), f.value) for f in group)
                for group in self.groups
            )
        ]
        for order in reversed(self.sort):  # stable sorts, last key first
            keyed = [(value_of(row, order.field), row) for row in matched]
            present = [pair for pair in keyed if pair[0] is not None]
            absent = [row for value, row in keyed if value is None]
            present.sort(key=lambda pair: _sort_key(pair[0]), reverse=order.direction == "DESC")
            ordered = [row for _, row in present]
            # NULLs come first ascending and last descending, as MySQL orders them.
            matched = absent + ordered if order.direction == "ASC" else ordered + absent
        if self.page_size is None:
            return matched, len(matched)
        last = max(1, math.ceil(len(matched) / self.page_size))
        page = min(self.current_page, last)
        start = (page - 1) * self.page_size
        return matched[start : start + self.page_size], len(matched)

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` block of a search result, in the schema's snake case."""
        echoed: dict[str, Any] = {
            "filter_groups": [
                {
                    "filters": [
                        {"field": f.field, "value": f.value, "condition_type": f.condition_type}
                        for f in group
                    ]
                }
                for group in self.groups
            ]
        }
        if self.sort:
            echoed["sort_orders"] = [
                {"field": s.field, "direction": s.direction} for s in self.sort
            ]
        if self.page_size is not None:
            echoed["page_size"] = self.page_size
        echoed["current_page"] = self.current_page
        return echoed


def _sort_key(value: Any) -> tuple[int, Decimal, str]:
    number = _number(value)
    return (0, number, "") if number is not None else (1, Decimal(0), str(value).lower())


@dataclass
class _Raw:
    groups: dict[int, dict[int, dict[str, str]]] = field(default_factory=dict)
    sort: dict[int, dict[str, str]] = field(default_factory=dict)
    scalars: dict[str, str] = field(default_factory=dict)


def parse(query: Mapping[str, str]) -> Criteria:
    """Read ``searchCriteria[...]`` parameters; other parameters are not this grammar's."""
    raw = _Raw()
    for key, value in query.items():
        match = _KEY.match(key)
        if match is None:
            continue
        path = [_ALIASES.get(part, part) for part in match.group(1)[1:-1].split("][")]
        _place(raw, path, value, key)
    groups = tuple(
        tuple(_filter(raw.groups[i][j], i, j) for j in sorted(raw.groups[i]))
        for i in sorted(raw.groups)
    )
    sort = tuple(_sort(raw.sort[k]) for k in sorted(raw.sort))
    size = _whole(raw.scalars.get("pageSize"), "pageSize")
    page = _whole(raw.scalars.get("currentPage"), "currentPage")
    return Criteria(groups, sort, size if size else None, page if page else 1)


def _place(raw: _Raw, path: list[str], value: str, key: str) -> None:
    if len(path) == 5 and path[0] == "filter_groups" and path[2] == "filters":
        group, one = _index(path[1], key), _index(path[3], key)
        raw.groups.setdefault(group, {}).setdefault(one, {})[path[4]] = value
    elif len(path) == 3 and path[0] == "sortOrders":
        raw.sort.setdefault(_index(path[1], key), {})[path[2]] = value
    elif len(path) == 1 and path[0] in ("pageSize", "currentPage"):
        raw.scalars[path[0]] = value


def _index(text: str, key: str) -> int:
    if not text.isdigit():
        raise CriteriaError("Invalid search criteria parameter: %1", key)
    return int(text)


def _filter(parts: dict[str, str], group: int, one: int) -> Filter:
    if not parts.get("field"):
        raise CriteriaError(
            '"%1" is required. Enter and try again.',
            f"filter_groups[{group}][filters][{one}][field]",
        )
    condition = (parts.get("condition_type") or "eq").lower()
    if condition not in CONDITIONS:
        raise CriteriaError("Invalid condition type: %1", condition)
    return Filter(parts["field"], parts.get("value", ""), condition)


def _sort(parts: dict[str, str]) -> Sort:
    direction = (parts.get("direction") or "DESC").upper()
    if not parts.get("field") or direction not in ("ASC", "DESC"):
        raise CriteriaError("Invalid sort order: %1", f"{parts.get('field')} {direction}")
    return Sort(parts["field"], direction)


def _whole(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise CriteriaError('"%1" is not a valid value for %2.', text, name)
    return int(text)
