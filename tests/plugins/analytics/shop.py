"""The small shop both recommendation publishing tests sync from, and its world.

Five people and their orders as the file connector's CSV files (customers and
orders), one other connection beside it, and a store on SQLite. With
``analytics.refresh_after_sync`` every sync recomputes the recommendations
after its pulls, so they go out with the same pass's pushes. The baskets
make Carl lack the stove that goes with his tent (TENT -> STOVE: two of five
bought both), TENTPRO the dearer up-sell in camping, and Dana a socks-only
apparel buyer.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import yaml

from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store, open_store

PEOPLE = ["ann", "bob", "carl", "dana", "eve"]
PRODUCTS = {  # sku: (category, price)
    "TENT": ("camping", "100.00"),
    "STOVE": ("camping", "40.00"),
    "TENTPRO": ("camping", "300.00"),
    "SOCKS": ("apparel", "10.00"),
}
BASKETS = {
    "ann": ["TENT", "STOVE"],
    "bob": ["TENT", "STOVE"],
    "carl": ["TENT"],
    "dana": ["SOCKS"],
    "eve": ["SOCKS", "TENTPRO"],
}
HEADER = ["order_id", "email", "placed_at", "currency", "total", "sku", "name", "qty"]
HEADER += ["category", "price"]
SHOP = {
    "connector": "files",
    "direction": "pull",
    "streams": ["customers", "orders"],
    "config": {
        "path": "shop.csv",
        "columns": {"id": "external_id", "email": "email", "first_name": "first_name"},
        "orders": {
            "path": "orders.csv",
            "columns": {
                "order_id": "external_id",
                "email": "customer_email",
                "placed_at": "placed_at",
                "currency": "currency",
                "total": "total",
                "sku": "line.sku",
                "name": "line.name",
                "qty": "line.quantity",
                "category": "line.category",
                "price": "line.unit_price",
            },
        },
    },
}


def write_orders(path: Path, baskets: dict[str, list[str]]) -> None:
    """One order per person, a line per product; rewriting the file changes the shop."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number, (person, skus) in enumerate(baskets.items(), start=1):
            total = sum(float(PRODUCTS[sku][1]) for sku in skus)
            for sku in skus:
                category, price = PRODUCTS[sku]
                when = f"2026-11-{number:02d}T10:00:00+00:00"
                email = f"{person}@example.com"
                order = [f"O{number}", email, when, "EUR", f"{total:.2f}"]
                writer.writerow([*order, sku, sku.title(), 1, category, price])


class ShopWorld:
    """The shop in ``folder`` and the connection ``name`` that publishes to a sandbox."""

    def __init__(self, folder: Path, name: str, connection: dict[str, Any]) -> None:
        with (folder / "shop.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "email", "first_name"])
            writer.writerows([f"C{i}", f"{p}@example.com", p.title()] for i, p in enumerate(PEOPLE))
        self.orders = folder / "orders.csv"
        write_orders(self.orders, BASKETS)
        config = {
            "store": "sqlite:///hub.db",
            "analytics": {"refresh_after_sync": True, "min_support": 0.3},
            "connections": {"shop": SHOP, name: connection},
        }
        path = folder / "crmhub.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.plugins = load_plugins()
        self.config = load_config(path, self.plugins)
        self.store: Store = open_store(f"sqlite:///{folder / 'hub.db'}")

    def sync(self) -> None:
        results = asyncio.run(sync(self.store, self.config, self.plugins))
        assert all(r.status == "succeeded" for r in results), [r.error for r in results]
