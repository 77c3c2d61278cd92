"""Per-customer affinity and up-sell, next to the co-purchase cross-sell (affinity.py).

A customer's *affinity* is the product category they spent most on (ties by
name). Their *up-sell* is, within that category, the product most buyers
bought whose mean unit price is above the dearest price this customer paid
there, and which they have not bought: the step up the seeds' call-centre
and one-to-one e-mail examples offer. All three come from the same lines of
non-cancelled orders, in SQL, and are gathered here into what the customer
record holds (``hub.model.Recommendations``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import Session

from hub.store.tables import CustomerMetrics, OrderLineRow, OrderRow, table_of

__all__ = ["recommendations"]

ORDERS = table_of(OrderRow)
LINES = table_of(OrderLineRow)
METRICS = table_of(CustomerMetrics)


def recommendations(session: Session) -> dict[str, dict[str, str]]:
    """hub id -> the non-empty recommendation fields, for every customer that has one.

    Reads ``next_best_product`` from customer_metrics, so it runs after
    :func:`plugins.analytics.affinity.next_best_products`.
    """
    found: dict[str, dict[str, str]] = {}
    for hub_id, product in session.execute(
        select(METRICS.c.hub_id, METRICS.c.next_best_product).where(
            METRICS.c.next_best_product.is_not(None)
        )
    ):
        found.setdefault(hub_id, {})["next_best_product"] = product
    for hub_id, category, up_sell in session.execute(_affinity_and_up_sell()):
        found.setdefault(hub_id, {})["affinity"] = category
        if up_sell is not None:
            found[hub_id]["up_sell"] = up_sell
    return found


def _affinity_and_up_sell() -> Any:
    item = func.coalesce(LINES.c.sku, LINES.c.product_id, LINES.c.name)
    lines = (
        select(
            ORDERS.c.customer_hub_id.label("hub_id"),
            LINES.c.category,
            item.label("item"),
            LINES.c.unit_price,
            LINES.c.total,
        )
        .select_from(LINES.join(ORDERS, LINES.c.order_id == ORDERS.c.id))
        .where(
            ORDERS.c.status != "cancelled",
            ORDERS.c.customer_hub_id.is_not(None),
            LINES.c.category.is_not(None),
        )
        .subquery("lines")
    )
    spend = (
        select(
            lines.c.hub_id,
            lines.c.category,
            func.max(lines.c.unit_price).label("top_price"),
            func.row_number()
            .over(
                partition_by=lines.c.hub_id,
                order_by=(func.sum(lines.c.total).desc(), lines.c.category),
            )
            .label("rank"),
        )
        .group_by(lines.c.hub_id, lines.c.category)
        .subquery("spend")
    )
    favourite = select(spend).where(spend.c.rank == 1).subquery("favourite")
    products = (
        select(
            lines.c.category,
            lines.c.item,
            func.avg(lines.c.unit_price).label("price"),
            func.count(func.distinct(lines.c.hub_id)).label("buyers"),
        )
        .group_by(lines.c.category, lines.c.item)
        .subquery("products")
    )
    owned = lines.alias("owned")
    steps = (
        select(
            favourite.c.hub_id,
            products.c.item,
            func.row_number()
            .over(
                partition_by=favourite.c.hub_id,
                order_by=(products.c.buyers.desc(), products.c.item),
            )
            .label("rank"),
        )
        .select_from(
            favourite.join(
                products,
                and_(
                    products.c.category == favourite.c.category,
                    products.c.price > favourite.c.top_price,
                ),
            )
        )
        .where(
            ~select(owned.c.item)
            .where(owned.c.hub_id == favourite.c.hub_id, owned.c.item == products.c.item)
            .exists()
        )
        .subquery("steps")
    )
    best = select(steps.c.hub_id, steps.c.item).where(steps.c.rank == 1).subquery("best")
    return (
        select(favourite.c.hub_id, favourite.c.category, best.c.item)
        .select_from(favourite.outerjoin(best, best.c.hub_id == favourite.c.hub_id))
        .order_by(favourite.c.hub_id)
    )
