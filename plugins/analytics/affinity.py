"""Next-best product from co-purchases: item-to-item association rules in SQL.

A rule "bought A -> buys B" holds when enough buyers bought both (support)
and buying A makes B likelier than it is overall (lift = P(B|A) / P(B)).
A customer's next-best product is the B of the strongest rule whose A they
bought and whose B they have not: the cross-sell the seeds' one-to-one
e-mail and call-centre examples act on. Items are the SKU, else the product
id, else the line's name.
"""

from __future__ import annotations

from sqlalchemy import Float, and_, bindparam, cast, func, select, update
from sqlmodel import Session

from hub.store.tables import CustomerMetrics, OrderLineRow, OrderRow, table_of
from plugins.analytics.recommend import item_of, owns

__all__ = ["next_best_products"]

ORDERS = table_of(OrderRow)
LINES = table_of(OrderLineRow)
METRICS = table_of(CustomerMetrics)


def next_best_products(session: Session, *, min_support: float, min_lift: float) -> int:
    """Set ``next_best_product`` on customer_metrics; return how many customers got one."""
    item = item_of(LINES)
    bought = (
        select(ORDERS.c.customer_hub_id.label("hub_id"), item.label("item"))
        .select_from(LINES.join(ORDERS, LINES.c.order_id == ORDERS.c.id))
        .where(ORDERS.c.status != "cancelled", ORDERS.c.customer_hub_id.is_not(None))
        .distinct()
        .subquery("bought")
    )
    buyers = session.execute(select(func.count(func.distinct(bought.c.hub_id)))).scalar_one()
    if not buyers:
        return 0
    counts = (
        select(bought.c.item, func.count().label("n")).group_by(bought.c.item).subquery("counts")
    )
    a, b = bought.alias("a"), bought.alias("b")
    pairs = (
        select(a.c.item.label("a"), b.c.item.label("b"), func.count().label("both"))
        .select_from(a.join(b, and_(a.c.hub_id == b.c.hub_id, a.c.item != b.c.item)))
        .group_by(a.c.item, b.c.item)
        .having(func.count() >= max(1.0, min_support * buyers))
        .subquery("pairs")
    )
    count_a, count_b = counts.alias("count_a"), counts.alias("count_b")
    lift = cast(pairs.c.both, Float) * buyers / (cast(count_a.c.n, Float) * count_b.c.n)
    rules = (
        select(pairs.c.a, pairs.c.b, lift.label("lift"))
        .select_from(
            pairs.join(count_a, count_a.c.item == pairs.c.a).join(
                count_b, count_b.c.item == pairs.c.b
            )
        )
        .where(lift >= min_lift)
        .subquery("rules")
    )
    candidates = (
        select(
            bought.c.hub_id,
            rules.c.b,
            func.row_number()
            .over(partition_by=bought.c.hub_id, order_by=(rules.c.lift.desc(), rules.c.b))
            .label("rank"),
        )
        .select_from(bought.join(rules, rules.c.a == bought.c.item))
        .where(~owns(bought.c.hub_id, rules.c.b))
        .subquery("candidates")
    )
    best = session.execute(
        select(candidates.c.hub_id, candidates.c.b).where(candidates.c.rank == 1)
    ).all()
    session.execute(update(METRICS).values(next_best_product=None))
    if best:
        session.execute(
            update(METRICS)
            .where(METRICS.c.hub_id == bindparam("b_hub_id"))
            .values(next_best_product=bindparam("b_item")),
            [{"b_hub_id": hub_id, "b_item": product} for hub_id, product in best],
        )
    return len(best)
