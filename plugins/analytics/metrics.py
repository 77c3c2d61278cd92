"""Per-customer metrics as one INSERT ... SELECT over orders, lines and interactions.

Every figure is an aggregate the database computes: the Python side only
assembles the statement, so a million customers cost one pass of the engine,
not a million round trips. Money columns hold scaled integers on both
backends (see hub.store.types), so sums and differences here are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlmodel import Session

from hub.store.tables import (
    CampaignRow,
    CustomerMetrics,
    CustomerRow,
    InteractionRow,
    OrderLineRow,
    OrderRow,
    table_of,
)
from hub.store.types import MONEY_SCALE, UtcDateTime
from plugins.analytics.rfm import named_segment, quantile_score
from plugins.analytics.sql import day_of, days_between

__all__ = ["MetricsSettings", "compute_metrics"]

CUSTOMERS = table_of(CustomerRow)
ORDERS = table_of(OrderRow)
LINES = table_of(OrderLineRow)
INTERACTIONS = table_of(InteractionRow)
CAMPAIGNS = table_of(CampaignRow)
METRICS = table_of(CustomerMetrics)

#: Inter-purchase gap assumed when no customer has bought twice yet.
DEFAULT_GAP_DAYS = 365.0


@dataclass(frozen=True)
class MetricsSettings:
    bins: int = 5


def compute_metrics(session: Session, as_of: datetime, settings: MetricsSettings) -> int:
    """Replace every customer's metrics with ones computed as of ``as_of``; return rows written.

    Orders placed after ``as_of`` and cancelled orders do not count.
    """
    session.execute(delete(METRICS))
    session.execute(_insert(as_of, settings))
    return int(session.execute(select(func.count()).select_from(METRICS)).scalar_one())


def _at(as_of: datetime) -> ColumnElement[datetime]:
    return literal(as_of, UtcDateTime())


def _valid_orders(as_of: datetime) -> ColumnElement[bool]:
    return and_(
        ORDERS.c.status != "cancelled",
        ORDERS.c.customer_hub_id.is_not(None),
        ORDERS.c.placed_at <= _at(as_of),
    )


def _orders(as_of: datetime) -> Any:
    net = ORDERS.c.total - func.coalesce(ORDERS.c.refunded, 0)
    return (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            func.count().label("frequency"),
            func.count(func.distinct(day_of(ORDERS.c.placed_at))).label("purchase_days"),
            func.min(ORDERS.c.placed_at).label("first_at"),
            func.max(ORDERS.c.placed_at).label("last_at"),
            func.sum(net).label("revenue"),
        )
        .where(_valid_orders(as_of))
        .group_by(ORDERS.c.customer_hub_id)
        .subquery("orders_agg")
    )


def _goods(as_of: datetime) -> Any:
    return (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            func.sum(func.coalesce(LINES.c.cost, 0) * LINES.c.quantity).label("cogs"),
        )
        .select_from(LINES.join(ORDERS, LINES.c.order_id == ORDERS.c.id))
        .where(_valid_orders(as_of), LINES.c.cost.is_not(None))
        .group_by(ORDERS.c.customer_hub_id)
        .subquery("goods_agg")
    )


def _service(as_of: datetime) -> Any:
    """Service cost: the ``cost`` a helpdesk records on an interaction (a ticket, a call)."""
    cost = INTERACTIONS.c.details["cost"].as_float()
    return (
        select(
            INTERACTIONS.c.customer_hub_id.label("hub_id"),
            func.sum(cast(func.round(cost * MONEY_SCALE), BigInteger)).label("service"),
        )
        .where(
            INTERACTIONS.c.customer_hub_id.is_not(None),
            INTERACTIONS.c.occurred_at <= _at(as_of),
            cost.is_not(None),
        )
        .group_by(INTERACTIONS.c.customer_hub_id)
        .subquery("service_agg")
    )


def _acquisition_cost() -> Any:
    """Each campaign's spend shared equally among the customers it acquired.

    A customer's ``acquisition.campaign`` names the campaign by id or by name.
    """
    campaign = CUSTOMERS.c.data[("acquisition", "campaign")].as_string()
    matches = or_(CAMPAIGNS.c.id == campaign, CAMPAIGNS.c.name == campaign)
    per_campaign = (
        select(
            CAMPAIGNS.c.id,
            CAMPAIGNS.c.name,
            (CAMPAIGNS.c.spend / func.count(CUSTOMERS.c.hub_id)).label("cac"),
        )
        .select_from(CAMPAIGNS.join(CUSTOMERS, matches))
        .where(CAMPAIGNS.c.spend.is_not(None))
        .group_by(CAMPAIGNS.c.id, CAMPAIGNS.c.name, CAMPAIGNS.c.spend)
        .subquery("per_campaign")
    )
    return (
        select(CUSTOMERS.c.hub_id, func.sum(per_campaign.c.cac).label("cac"))
        .select_from(
            CUSTOMERS.join(
                per_campaign, or_(per_campaign.c.id == campaign, per_campaign.c.name == campaign)
            )
        )
        .group_by(CUSTOMERS.c.hub_id)
        .subquery("acquisition_cost")
    )


def _base(as_of: datetime) -> Select[Any]:
    orders, goods, service, cac = (
        _orders(as_of),
        _goods(as_of),
        _service(as_of),
        _acquisition_cost(),
    )
    at = _at(as_of)
    acquisition = {
        key: CUSTOMERS.c.data[("acquisition", key)].as_string()
        for key in ("source", "channel", "campaign")
    }
    recency = days_between(orders.c.last_at, at)
    tenure = days_between(orders.c.first_at, at)
    cogs = func.coalesce(goods.c.cogs, 0)
    service_cost = func.coalesce(service.c.service, 0)
    revenue = func.coalesce(orders.c.revenue, 0)
    return select(
        CUSTOMERS.c.hub_id,
        orders.c.first_at,
        orders.c.last_at,
        recency.label("recency_days"),
        tenure.label("tenure_days"),
        func.coalesce(orders.c.frequency, 0).label("frequency"),
        func.coalesce(orders.c.purchase_days - 1, 0).label("repeat_purchases"),
        orders.c.revenue,
        (orders.c.revenue / orders.c.frequency).label("average_order"),
        goods.c.cogs,
        service.c.service,
        (revenue - cogs - service_cost).label("profit"),
        (revenue - cogs - service_cost - func.coalesce(cac.c.cac, 0)).label("clv_historical"),
        acquisition["source"].label("acquisition_source"),
        acquisition["channel"].label("acquisition_channel"),
        acquisition["campaign"].label("acquisition_campaign"),
        cac.c.cac,
        orders.c.frequency.is_not(None).label("buyer"),
        (
            days_between(orders.c.first_at, orders.c.last_at)
            / func.nullif(orders.c.purchase_days - 1, 0)
        ).label("gap"),
    ).select_from(
        CUSTOMERS.outerjoin(orders, orders.c.hub_id == CUSTOMERS.c.hub_id)
        .outerjoin(goods, goods.c.hub_id == CUSTOMERS.c.hub_id)
        .outerjoin(service, service.c.hub_id == CUSTOMERS.c.hub_id)
        .outerjoin(cac, cac.c.hub_id == CUSTOMERS.c.hub_id)
    )


def _insert(as_of: datetime, settings: MetricsSettings) -> Insert:
    base = _base(as_of).subquery("base")
    bins = settings.bins
    buyer = base.c.buyer

    def score(value: ColumnElement[Any]) -> ColumnElement[int]:
        return case((buyer, quantile_score(value, buyer, bins)), else_=None)

    scored = select(
        base,
        score(base.c.last_at).label("r_score"),
        score(base.c.frequency).label("f_score"),
        score(base.c.revenue).label("m_score"),
        func.avg(base.c.gap).over().label("portfolio_gap"),
    ).subquery("scored")
    gap = func.coalesce(scored.c.gap, scored.c.portfolio_gap, DEFAULT_GAP_DAYS)
    columns = {
        "hub_id": scored.c.hub_id,
        "computed_at": _at(as_of),
        "first_order_at": scored.c.first_at,
        "last_order_at": scored.c.last_at,
        "recency_days": scored.c.recency_days,
        "tenure_days": scored.c.tenure_days,
        "frequency": scored.c.frequency,
        "repeat_purchases": scored.c.repeat_purchases,
        "revenue": scored.c.revenue,
        "average_order": scored.c.average_order,
        "cost_of_goods": scored.c.cogs,
        "service_cost": scored.c.service,
        "profit": case((scored.c.buyer, scored.c.profit), else_=None),
        "r_score": scored.c.r_score,
        "f_score": scored.c.f_score,
        "m_score": scored.c.m_score,
        "rfm_segment": named_segment(scored.c.r_score, scored.c.f_score, scored.c.m_score, bins),
        "clv_historical": case((scored.c.buyer, scored.c.clv_historical), else_=None),
        "churn_risk": scored.c.recency_days / (scored.c.recency_days + gap),
        "acquisition_source": scored.c.acquisition_source,
        "acquisition_channel": scored.c.acquisition_channel,
        "acquisition_campaign": scored.c.acquisition_campaign,
        "acquisition_cost": scored.c.cac,
    }
    return METRICS.insert().from_select(list(columns), select(*columns.values()))
