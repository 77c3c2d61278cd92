"""A segment's rules as one SQL condition over the customer and their metrics.

The condition is evaluated by the database against ``customer`` left-joined
to ``customer_metrics``, so membership of a million customers is one query,
not a million rule evaluations in Python.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, not_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from hub.config.segments import METRIC_FIELDS, SegmentRule
from hub.store.tables import CustomerMetrics, CustomerRow, OrderLineRow, OrderRow, table_of
from hub.store.types import UtcDateTime
from plugins.analytics.sql import day_of

__all__ = ["CUSTOMERS", "METRICS", "anniversary_days", "condition"]

CUSTOMERS = table_of(CustomerRow)
METRICS = table_of(CustomerMetrics)
ORDERS = table_of(OrderRow)
LINES = table_of(OrderLineRow)


class has_tag(FunctionElement[bool]):
    """The customer's JSON ``tags`` array holds the given tag."""

    type = Boolean()
    inherit_cache = True


@compiles(has_tag, "sqlite")
def _has_tag_sqlite(element: has_tag, compiler: SQLCompiler, **kw: Any) -> str:
    data, tag = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({data}, '$.tags') WHERE value = {tag})"


@compiles(has_tag, "postgresql")
def _has_tag_pg(element: has_tag, compiler: SQLCompiler, **kw: Any) -> str:
    data, tag = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({data})::jsonb -> 'tags') ? {tag}"


def anniversary_days(today: date, within: timedelta) -> list[str]:
    """'MM-DD' of every day from today to today + within; 29 February counts on 28 in
    years without one, so people born on it are not skipped three years in four."""
    days = [today + timedelta(days=n) for n in range(within.days + 1)]
    labels = {d.strftime("%m-%d") for d in days}
    if "02-28" in labels and not _is_leap(today.year if today.month <= 2 else today.year + 1):
        labels.add("02-29")
    return sorted(labels)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _column(name: str) -> ColumnElement[Any]:
    if name in METRIC_FIELDS:
        return METRICS.c[name]
    if name == "created_at":
        return CUSTOMERS.c.created_at
    text: ColumnElement[Any] = CUSTOMERS.c.data[name].as_string()
    return text


def _cutoff(name: str, as_of: datetime, delta: timedelta) -> ColumnElement[Any]:
    """The boundary in the column's own representation (ISO text for birth_date)."""
    if name == "birth_date":
        return literal((as_of - delta).date().isoformat())
    return literal(as_of - delta, UtcDateTime())


def _bought(category: str, since: ColumnElement[Any] | None) -> ColumnElement[bool]:
    conditions = [
        ORDERS.c.customer_hub_id == CUSTOMERS.c.hub_id,
        ORDERS.c.status != "cancelled",
        LINES.c.category == category,
    ]
    if since is not None:
        conditions.append(ORDERS.c.placed_at >= since)
    return exists(
        select(literal(1))
        .select_from(LINES.join(ORDERS, LINES.c.order_id == ORDERS.c.id))
        .where(*conditions)
    )


def _rule(rule: SegmentRule, as_of: datetime) -> ColumnElement[bool]:
    if rule.consent is not None:
        status: ColumnElement[str] = CUSTOMERS.c.data[
            ("consents", rule.consent.value, "status")
        ].as_string()
        return status == "subscribed"
    if rule.tag is not None:
        return has_tag(CUSTOMERS.c.data, literal(rule.tag))
    if rule.bought_category is not None:
        if rule.older_than is not None:
            since = literal(as_of - rule.older_than, UtcDateTime())
            return and_(
                _bought(rule.bought_category, None), not_(_bought(rule.bought_category, since))
            )
        if rule.within_last is not None:
            return _bought(rule.bought_category, literal(as_of - rule.within_last, UtcDateTime()))
        return _bought(rule.bought_category, None)
    name = str(rule.field)
    column = _column(name)
    if rule.in_ is not None:
        return column.in_(rule.in_)
    if rule.not_in is not None:
        return and_(column.is_not(None), column.not_in(rule.not_in))
    if rule.equals is not None:
        return column == rule.equals
    if rule.above is not None:
        return column > rule.above
    if rule.below is not None:
        return column < rule.below
    if rule.older_than is not None:
        return column < _cutoff(name, as_of, rule.older_than)
    if rule.within_last is not None:
        return column >= _cutoff(name, as_of, rule.within_last)
    assert rule.within_next is not None  # the config model allows no other test
    text = column if name == "birth_date" else day_of(column)
    return func.substr(text, 6, 5).in_(anniversary_days(as_of.date(), rule.within_next))


def condition(rules: list[SegmentRule], as_of: datetime) -> ColumnElement[bool]:
    """All rules at once, as the WHERE clause of a select over customer and metrics."""
    return and_(true(), *(_rule(rule, as_of) for rule in rules))
