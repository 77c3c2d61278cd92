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

__all__ = ["item_of", "owns", "recommendations"]

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
    favourite, best = _affinity_and_up_sell()
    for hub_id, category in session.execute(select(favourite.c.hub_id, favourite.c.category)):
        found.setdefault(hub_id, {})["affinity"] = category
    # Two queries, not an outer join of the two derived tables: SQLite would
    # rescan one for each row of the other.
    for hub_id, item in session.execute(select(best.c.hub_id, best.c.item)):
        found.setdefault(hub_id, {})["up_sell"] = item
    return found


def item_of(lines: Any) -> Any:
    """A line's product: its SKU, else its product id, else its name."""
    return func.coalesce(lines.c.sku, lines.c.product_id, lines.c.name)


def owns(hub_id: Any, item: Any) -> Any:
    """Whether the customer bought the item in an order that was not cancelled.

    Against the base tables, so each test is an index lookup of the
    customer's few orders, not a scan of every line.
    """
    orders, lines = ORDERS.alias("owned_orders"), LINES.alias("owned_lines")
    return (
        select(lines.c.id)
        .select_from(lines.join(orders, lines.c.order_id == orders.c.id))
        .where(
            orders.c.customer_hub_id == hub_id,
            orders.c.status != "cancelled",
            item_of(lines) == item,
        )
        .exists()
    )


def _affinity_and_up_sell() -> tuple[Any, Any]:
    """The favourite category of each buyer, and each buyer's best up-sell, as subqueries."""
    item = item_of(LINES)
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
        .where(~owns(favourite.c.hub_id, products.c.item))
        .subquery("steps")
    )
    best = select(steps.c.hub_id, steps.c.item).where(steps.c.rank == 1).subquery("best")
    return favourite, best
