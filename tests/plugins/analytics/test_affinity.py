"""Next-best product from co-purchases, against rules counted by hand."""

from __future__ import annotations

from sqlmodel import select

from hub.store.database import Store
from hub.store.tables import CustomerMetrics
from plugins.analytics.affinity import next_best_products
from plugins.analytics.metrics import MetricsSettings, compute_metrics
from tests.plugins.seed import customer, day, order

BASKETS = {
    "c1": ["tent", "stove"],
    "c2": ["tent", "stove"],
    "c3": ["tent", "lamp"],
    "c4": ["socks"],
    "c5": ["socks", "shoes"],
    "c6": ["tent"],
}


def test_strongest_rule_with_enough_support_recommends_what_the_customer_lacks(
    store: Store,
) -> None:
    for hub_id, items in BASKETS.items():
        customer(store, hub_id)
        order(store, hub_id, "2026-10-01", "10", lines=[(item, 1, "10", None) for item in items])
    with store.session() as session:
        compute_metrics(session, day("2026-12-01"), MetricsSettings())
        # 6 buyers; tent -> stove: 2 both, lift 2*6/(4*2) = 1.5. tent -> lamp has
        # the same lift but one buyer (support 1/6 < 0.3), socks -> shoes too.
        recommended = next_best_products(session, min_support=0.3, min_lift=1.2)
        session.commit()
        got = {m.hub_id: m.next_best_product for m in session.exec(select(CustomerMetrics))}
    assert recommended == 2
    stove = "stove item"  # the seeded line's name, the item key without a SKU
    assert got == {"c1": None, "c2": None, "c3": stove, "c4": None, "c5": None, "c6": stove}
