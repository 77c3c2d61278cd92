"""Sugar's filter language, as the sandbox evaluates it: the documented operators only.

A filter is a list of conditions that must all hold. A condition maps a field
to a value (equality) or to ``{operator: value}``, or is ``{"$or": [...]}`` /
``{"$and": [...]}`` over further conditions. Dates compare as times, whatever
offset they are written with; other values compare as text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from connectors.sugarcrm.mapping import SugarRecord

__all__ = ["FilterError", "matches", "order"]

_DATES = frozenset({"date_entered", "date_modified"})
_EMAIL = "email_addresses.email_address"


class FilterError(ValueError):
    """The filter names an operator Sugar does not know or is not shaped as Sugar expects."""


def _scalar(test: Callable[[Any, Any], bool]) -> Callable[[list[Any], Any], bool]:
    return lambda values, wanted: any(v is not None and test(v, wanted) for v in values)


_OPERATORS: dict[str, Callable[[list[Any], Any], bool]] = {
    "$equals": _scalar(lambda v, w: v == w),
    "$not_equals": lambda values, w: all(v != w for v in values),
    "$gt": _scalar(lambda v, w: v > w),
    "$gte": _scalar(lambda v, w: v >= w),
    "$lt": _scalar(lambda v, w: v < w),
    "$lte": _scalar(lambda v, w: v <= w),
    "$in": _scalar(lambda v, w: v in w),
    "$not_in": lambda values, w: all(v not in w for v in values),
    "$starts": _scalar(lambda v, w: str(v).startswith(w)),
    "$contains": _scalar(lambda v, w: w in str(v)),
    "$is_null": lambda values, _: all(v in (None, "") for v in values),
    "$not_null": lambda values, _: any(v not in (None, "") for v in values),
}


def matches(record: SugarRecord, conditions: Any) -> bool:
    if not isinstance(conditions, list):
        raise FilterError("filter must be a list of conditions")
    return all(_holds(record, condition) for condition in conditions)


def order(records: list[SugarRecord], order_by: str) -> list[SugarRecord]:
    """Sort by ``field:ASC,field:DESC``; the last key is applied first, so the first wins."""
    ordered = list(records)
    for term in reversed([t for t in order_by.split(",") if t.strip()]):
        field, _, direction = term.strip().partition(":")

        def key(record: SugarRecord, field: str = field) -> Any:
            return _comparable(field, record.get(field)) or ""

        ordered.sort(key=key, reverse=direction.upper() == "DESC")
    return ordered


def _holds(record: SugarRecord, condition: Any) -> bool:
    if not isinstance(condition, dict):
        raise FilterError(f"a filter condition must be an object, not {condition!r}")
    for field, test in condition.items():
        if field == "$or":
            if not any(_holds(record, part) for part in _parts(test)):
                return False
        elif field == "$and":
            if not all(_holds(record, part) for part in _parts(test)):
                return False
        elif not _field_holds(record, field, test):
            return False
    return True


def _parts(test: Any) -> list[Any]:
    if not isinstance(test, list):
        raise FilterError("$or and $and take a list of conditions")
    return test


def _field_holds(record: SugarRecord, field: str, test: Any) -> bool:
    if field == _EMAIL:
        values = [e.get("email_address", "").casefold() for e in record.get("email") or []]
        test = _lowered(test)
    elif field in record or field in _DATES:
        values = [_comparable(field, record.get(field))]
    else:
        raise FilterError(f"Unknown field: {field}")
    operator, wanted = next(iter(test.items())) if isinstance(test, dict) else ("$equals", test)
    if operator not in _OPERATORS:
        raise FilterError(f"Did not recognize the operand: {operator}")
    if isinstance(wanted, list):
        wanted = [_comparable(field, w) for w in wanted]
    else:
        wanted = _comparable(field, wanted)
    return _OPERATORS[operator](values, wanted)


def _lowered(test: Any) -> Any:
    if isinstance(test, dict):
        return {op: v.casefold() if isinstance(v, str) else v for op, v in test.items()}
    return test.casefold() if isinstance(test, str) else test


def _comparable(field: str, value: Any) -> Any:
    if field in _DATES and isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise FilterError(f"{field} needs an ISO 8601 time, not {value!r}") from None
    return value
