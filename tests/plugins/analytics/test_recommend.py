"""Affinity, up-sell and cross-sell on the customer record, on both store backends."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from hub.config import HubConfig
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow
from tests.plugins.seed import customer, day, order

AS_OF = day("2026-12-01")
# (category, quantity, unit price, cost); a seeded line's item is "<category> item",
# so each category here is one product.
BASKETS: dict[str, list[tuple[str, int, str, str | None]]] = {
    "a": [("tent", 1, "100", None), ("stove", 1, "40", None)],
    "b": [("tent", 1, "100", None), ("stove", 1, "40", None)],
    "c": [("tent", 1, "100", None)],
    "d": [("socks", 2, "10", None)],
    "e": [("socks", 1, "10", None), ("boots", 1, "90", None)],
}


def _recommendations(store: Store) -> dict[str, Any]:
    with store.session() as session:
        rows = session.exec(select(CustomerRow)).all()
        return {row.hub_id: row.data.get("recommendations") for row in rows}


def _refresh(store: Store) -> dict[str, int]:
    results = load_plugins().refresh(store, HubConfig(), AS_OF)
    return {r.plugin: r.counts for r in results}["analytics"]


def test_each_customer_gets_their_recommendations_and_a_second_refresh_writes_nothing(
    store: Store,
) -> None:
    for hub_id, lines in BASKETS.items():
        customer(store, hub_id)
        order(store, hub_id, "2026-11-01", "100", lines=lines)
    customer(store, "f")  # bought nothing

    assert _refresh(store)["recommendations changed"] == 5
    got = _recommendations(store)
    # 5 buyers. tent -> stove: 2 of 5 bought both, lift 2*5/(3*2) = 1.67; c lacks the stove.
    # socks -> boots: 1 of 5 (support 0.2 >= 0.01), lift 1*5/(2*1) = 2.5; d lacks the boots.
    # Affinity: the category of the most spend. One product per category here, so no
    # up-sell (test_publish.py has one).
    assert got == {
        "a": {"affinity": "tent"},
        "b": {"affinity": "tent"},
        "c": {"affinity": "tent", "next_best_product": "stove item"},
        "d": {"affinity": "socks", "next_best_product": "boots item"},
        "e": {"affinity": "boots"},
        "f": None,
    }
    assert _refresh(store)["recommendations changed"] == 0

    order(store, "c", "2026-11-20", "40", lines=[("stove", 1, "40", None)])
    assert _refresh(store)["recommendations changed"] == 1
    assert _recommendations(store)["c"] == {"affinity": "tent"}
    with store.session() as session:
        row = session.get(CustomerRow, "c")
        assert row is not None and row.provenance["recommendations"][0] == "analytics"
