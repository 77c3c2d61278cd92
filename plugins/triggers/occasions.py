"""What counts as one occasion of each trigger, as a query of (hub_id, occasion key).

The occasion key is what makes a trigger fire once: a first order happens
once, each big order (and each purchase awaiting a service reminder) is its
own occasion, a silence is keyed by the day of the last order before it, a
birthday by the year it falls in. The keys are stored with each firing, so a
restart or a second run finds them taken.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, select

from hub.config import TriggerConfig
from hub.store.tables import CustomerRow, InteractionRow, OrderLineRow, OrderRow, table_of
from hub.store.types import UtcDateTime
from plugins.analytics.sql import day_of
from plugins.segments.rules import anniversary_days

__all__ = ["occasions"]

ORDERS = table_of(OrderRow)
CUSTOMERS = table_of(CustomerRow)
INTERACTIONS = table_of(InteractionRow)
LINES = table_of(OrderLineRow)


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UtcDateTime())


def _valid() -> ColumnElement[bool]:
    return and_(ORDERS.c.status != "cancelled", ORDERS.c.customer_hub_id.is_not(None))


def _first_orders(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    first = func.min(ORDERS.c.placed_at)
    return (
        select(ORDERS.c.customer_hub_id.label("hub_id"), literal("first_order").label("occasion"))
        .where(_valid(), ORDERS.c.placed_at <= _at(as_of))
        .group_by(ORDERS.c.customer_hub_id)
        .having(first >= _at(as_of - trigger.within))
    )


def _big_orders(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    return select(
        ORDERS.c.customer_hub_id.label("hub_id"),
        ("order:" + ORDERS.c.id).label("occasion"),
    ).where(
        _valid(),
        ORDERS.c.total > trigger.amount,
        ORDERS.c.placed_at <= _at(as_of),
        ORDERS.c.placed_at >= _at(as_of - trigger.within),
    )


def _cancellations(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    """A cancelled order, dated by its cancellation (its placing when the shop gives none)."""
    when = func.coalesce(ORDERS.c.cancelled_at, ORDERS.c.placed_at)
    return select(
        ORDERS.c.customer_hub_id.label("hub_id"),
        ("cancelled:" + ORDERS.c.id).label("occasion"),
    ).where(
        ORDERS.c.status == "cancelled",
        ORDERS.c.customer_hub_id.is_not(None),
        when <= _at(as_of),
        when >= _at(as_of - trigger.within),
    )


def _tickets(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    return select(
        INTERACTIONS.c.customer_hub_id.label("hub_id"),
        ("ticket:" + INTERACTIONS.c.id).label("occasion"),
    ).where(
        INTERACTIONS.c.kind == "ticket",
        INTERACTIONS.c.customer_hub_id.is_not(None),
        INTERACTIONS.c.occurred_at <= _at(as_of),
        INTERACTIONS.c.occurred_at >= _at(as_of - trigger.within),
    )


def _silences(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    assert trigger.after is not None  # the config model requires it for no_order_for
    last = func.max(ORDERS.c.placed_at)
    return (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            ("silent-since:" + func.max(day_of(ORDERS.c.placed_at))).label("occasion"),
        )
        .where(_valid(), ORDERS.c.placed_at <= _at(as_of))
        .group_by(ORDERS.c.customer_hub_id)
        .having(last <= _at(as_of - trigger.after))
    )


def _followups(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    """A purchase of the category whose wait ended within ``within``: one occasion per order.

    The window keeps the first run after the trigger is installed from firing
    for every purchase ever made; a run missed for less than ``within`` still
    catches up.
    """
    assert trigger.after is not None  # the config model requires it for purchase_followup
    due_from, due_to = as_of - trigger.after - trigger.within, as_of - trigger.after
    bought = (
        select(LINES.c.order_id).where(LINES.c.category == trigger.category).distinct()
    ).subquery("bought")
    return (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            ("purchase:" + ORDERS.c.id).label("occasion"),
        )
        .select_from(ORDERS.join(bought, bought.c.order_id == ORDERS.c.id))
        .where(
            _valid(),
            ORDERS.c.placed_at <= _at(due_to),
            ORDERS.c.placed_at >= _at(due_from),
        )
    )


def _yearly(
    date_text: ColumnElement[str], hub_id: Any, label: str, trigger: TriggerConfig, as_of: datetime
) -> Select[Any]:
    """Anniversaries from today to ``days_before`` days ahead, keyed by the year they fall in."""
    today = as_of.date()
    month_day = func.substr(date_text, 6, 5)
    year = case((month_day >= today.strftime("%m-%d"), str(today.year)), else_=str(today.year + 1))
    return select(
        hub_id.label("hub_id"), (f"{label}:" + cast(year, String)).label("occasion")
    ).where(month_day.in_(anniversary_days(today, timedelta(days=trigger.days_before))))


def occasions(trigger: TriggerConfig, as_of: datetime) -> Select[Any]:
    """Every (hub_id, occasion) the trigger would fire for as of ``as_of``, taken or not."""
    if trigger.event == "first_order":
        return _first_orders(trigger, as_of)
    if trigger.event == "order_over":
        return _big_orders(trigger, as_of)
    if trigger.event == "order_cancelled":
        return _cancellations(trigger, as_of)
    if trigger.event == "ticket_opened":
        return _tickets(trigger, as_of)
    if trigger.event == "no_order_for":
        return _silences(trigger, as_of)
    if trigger.event == "purchase_followup":
        return _followups(trigger, as_of)
    if trigger.event == "birthday":
        birth = CUSTOMERS.c.data["birth_date"].as_string()
        return _yearly(birth, CUSTOMERS.c.hub_id, "birthday", trigger, as_of).where(
            birth.is_not(None)
        )
    first = (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            func.min(day_of(ORDERS.c.placed_at)).label("first_day"),
        )
        .where(_valid(), ORDERS.c.placed_at <= _at(as_of))
        .group_by(ORDERS.c.customer_hub_id)
        .subquery("first_orders")
    )
    return _yearly(first.c.first_day, first.c.hub_id, "first-order", trigger, as_of).where(
        first.c.first_day < as_of.date().isoformat()  # not the day of the first order itself
    )
