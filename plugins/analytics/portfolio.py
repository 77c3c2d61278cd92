"""Portfolio figures: KPIs, conversion by channel, acquisition, cohorts, in SQL.

Each function is one aggregate query over the store; reports and the CLI
format what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    type_coerce,
)
from sqlmodel import Session

from hub.model import InteractionKind
from hub.store.tables import (
    CustomerMetrics,
    CustomerRow,
    InteractionRow,
    OrderRow,
    table_of,
)
from hub.store.types import ScaledMoney, UtcDateTime
from plugins.analytics.sql import day_of

__all__ = [
    "FOOTFALL_KINDS",
    "Kpis",
    "acquisition_by_channel",
    "clv_values",
    "cohort_retention",
    "conversion_by_channel",
    "kpis",
    "rfm_grid",
]

METRICS = table_of(CustomerMetrics)
ORDERS = table_of(OrderRow)
INTERACTIONS = table_of(InteractionRow)
CUSTOMERS = table_of(CustomerRow)
FOOTFALL_KINDS = (InteractionKind.WEB_VISIT, InteractionKind.STORE_VISIT, InteractionKind.LEAD)


@dataclass(frozen=True)
class Kpis:
    customers: int
    buyers: int
    orders: int
    revenue: Decimal
    profit: Decimal
    arpu: Decimal | None
    average_order: Decimal | None
    clv_historical: Decimal | None
    clv_predicted: Decimal | None
    churn_risk: float | None
    computed_at: datetime | None


def _average(money: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """AVG of a money column, read back as money (AVG itself is typed as a plain number)."""
    return type_coerce(func.avg(money), ScaledMoney())


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def kpis(session: Session) -> Kpis:
    """Portfolio totals; ARPU is revenue over all customers, buyers or not.

    That is the seeds' "ingresos medios por cliente" (average revenue per customer).
    """
    row = session.execute(
        select(
            func.count(),
            func.count(METRICS.c.last_order_at),
            func.coalesce(func.sum(METRICS.c.frequency), 0),
            func.sum(METRICS.c.revenue),
            func.sum(METRICS.c.profit),
            _average(METRICS.c.clv_historical),
            _average(METRICS.c.clv_predicted),
            func.avg(METRICS.c.churn_risk),
            func.max(METRICS.c.computed_at),
        )
    ).one()
    customers, buyers, orders = int(row[0]), int(row[1]), int(row[2])
    revenue, profit = _money(row[3]), _money(row[4])
    return Kpis(
        customers=customers,
        buyers=buyers,
        orders=orders,
        revenue=revenue,
        profit=profit,
        arpu=_money(revenue / customers) if customers else None,
        average_order=_money(revenue / orders) if orders else None,
        clv_historical=None if row[5] is None else _money(row[5]),
        clv_predicted=None if row[6] is None else _money(row[6]),
        churn_risk=None if row[7] is None else round(float(row[7]), 3),
        computed_at=row[8],
    )


def rfm_grid(session: Session) -> dict[tuple[int, int], int]:
    """Buyers per (R score, F score) cell."""
    return {
        (int(r), int(f)): int(n)
        for r, f, n in session.execute(
            select(METRICS.c.r_score, METRICS.c.f_score, func.count())
            .where(METRICS.c.r_score.is_not(None))
            .group_by(METRICS.c.r_score, METRICS.c.f_score)
        )
    }


def clv_values(session: Session) -> list[float]:
    """Historical CLV of every buyer, for the distribution chart (binned by the chart)."""
    return [
        float(value)
        for value in session.execute(
            select(METRICS.c.clv_historical).where(METRICS.c.clv_historical.is_not(None))
        ).scalars()
    ]


def acquisition_by_channel(session: Session) -> list[tuple[str, int, Decimal, Decimal | None]]:
    """(channel, customers, revenue, average acquisition cost) per acquisition channel."""
    channel = func.coalesce(METRICS.c.acquisition_channel, literal("unknown"))
    return [
        (str(name), int(n), _money(revenue), None if cac is None else _money(cac))
        for name, n, revenue, cac in session.execute(
            select(
                channel,
                func.count(),
                func.sum(METRICS.c.revenue),
                _average(METRICS.c.acquisition_cost),
            )
            .group_by(channel)
            .order_by(channel)
        )
    ]


def conversion_by_channel(
    session: Session, as_of: datetime
) -> list[tuple[str, int, int, int, float | None]]:
    """(channel, visits, identified visitors, buyers after a visit, conversion rate).

    Visits count every footfall interaction, anonymous ones included, each as
    its ``details.visits`` (a door counter's total for the hour) or as one;
    conversion is over identified visitors, who bought at
    or after their first visit on that channel.
    """
    at = literal(as_of, UtcDateTime())
    channel = func.coalesce(INTERACTIONS.c.channel, INTERACTIONS.c.kind)
    footfall = and_(INTERACTIONS.c.kind.in_(FOOTFALL_KINDS), INTERACTIONS.c.occurred_at <= at)
    counted = func.coalesce(INTERACTIONS.c.details["visits"].as_integer(), 1)
    visits = {
        name: int(n)
        for name, n in session.execute(
            select(channel, func.sum(counted)).where(footfall).group_by(channel)
        )
    }
    first = (
        select(
            INTERACTIONS.c.customer_hub_id.label("hub_id"),
            channel.label("channel"),
            func.min(INTERACTIONS.c.occurred_at).label("first_at"),
        )
        .where(footfall, INTERACTIONS.c.customer_hub_id.is_not(None))
        .group_by(INTERACTIONS.c.customer_hub_id, channel)
        .subquery()
    )
    bought = exists().where(
        ORDERS.c.customer_hub_id == first.c.hub_id,
        ORDERS.c.placed_at >= first.c.first_at,
        ORDERS.c.placed_at <= at,
        ORDERS.c.status != "cancelled",
    )
    converted = {
        name: (int(visitors), int(buyers))
        for name, visitors, buyers in session.execute(
            select(first.c.channel, func.count(), func.sum(case((bought, 1), else_=0))).group_by(
                first.c.channel
            )
        )
    }
    rows = []
    for name in sorted(set(visits) | set(converted)):
        visitors, buyers = converted.get(name, (0, 0))
        rate = round(buyers / visitors, 4) if visitors else None
        rows.append((str(name), int(visits.get(name, 0)), visitors, buyers, rate))
    return rows


def _month_index(timestamp: Any) -> Any:
    day = day_of(timestamp)
    return cast(func.substr(day, 1, 4), Integer) * 12 + cast(func.substr(day, 6, 2), Integer)


def cohort_retention(session: Session, months: int = 12) -> dict[str, list[float]]:
    """Per first-order month, the share of its customers buying again N months later."""
    valid = and_(ORDERS.c.status != "cancelled", ORDERS.c.customer_hub_id.is_not(None))
    start = (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            func.min(_month_index(ORDERS.c.placed_at)).label("cohort"),
        )
        .where(valid)
        .group_by(ORDERS.c.customer_hub_id)
        .subquery()
    )
    offset = _month_index(ORDERS.c.placed_at) - start.c.cohort
    counts = session.execute(
        select(start.c.cohort, offset, func.count(func.distinct(ORDERS.c.customer_hub_id)))
        .select_from(ORDERS.join(start, start.c.hub_id == ORDERS.c.customer_hub_id))
        .where(valid, offset < months)
        .group_by(start.c.cohort, offset)
    ).all()
    sizes = {int(c): int(n) for c, o, n in counts if int(o) == 0}
    table: dict[str, list[float]] = {}
    for cohort, month, n in counts:
        label = f"{(int(cohort) - 1) // 12:04d}-{(int(cohort) - 1) % 12 + 1:02d}"
        row = table.setdefault(label, [0.0] * months)
        row[int(month)] = round(int(n) / sizes[int(cohort)], 4)
    return dict(sorted(table.items()))
