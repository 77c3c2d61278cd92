"""Recommendations reach Shopify customer metafields through `crmhub sync` and the sandbox.

The same shop data as test_publish.py (the file connector: customers and
orders), and a Shopify store on loopback that the hub fills (customers, then
their ``crmhub.*`` metafields). ``analytics.refresh_after_sync`` recomputes
the recommendations after each pass's pulls. Writes at the sandbox (customer
mutations and metafield sets and deletes) are counted: "nothing changed"
means nothing written.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from connectors.shopify.sandbox import ShopifySandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store, open_store
from hub.testing.serve import running
from tests.plugins.analytics.test_publish import BASKETS, PEOPLE, _write_orders

METAFIELDS = {
    "crmhub.next_best_product": "recommendations.next_best_product",
    "crmhub.up_sell": "recommendations.up_sell",
    "crmhub.affinity": "recommendations.affinity",
}


class World:
    def __init__(self, tmp_path: Path, sandbox: ShopifySandbox, url: str) -> None:
        with (tmp_path / "shop.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "email", "first_name"])
            writer.writerows([f"C{i}", f"{p}@example.com", p.title()] for i, p in enumerate(PEOPLE))
        self.orders = tmp_path / "orders.csv"
        _write_orders(self.orders, BASKETS)
        order_columns = {
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
        }
        config = {
            "store": "sqlite:///hub.db",
            "analytics": {"refresh_after_sync": True, "min_support": 0.3},
            "connections": {
                "shop": {
                    "connector": "files",
                    "direction": "pull",
                    "streams": ["customers", "orders"],
                    "config": {
                        "path": "shop.csv",
                        "columns": {
                            "id": "external_id",
                            "email": "email",
                            "first_name": "first_name",
                        },
                        "orders": {"path": "orders.csv", "columns": order_columns},
                    },
                },
                "storefront": {
                    "connector": "shopify",
                    "direction": "both",
                    "streams": ["customers"],
                    "config": {
                        **sandbox.config_for(url),
                        "bulk_poll": 0.05,
                        "metafields": METAFIELDS,
                    },
                },
            },
        }
        path = tmp_path / "crmhub.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.plugins = load_plugins()
        self.config = load_config(path, self.plugins)
        self.store: Store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
        self.sandbox = sandbox

    def sync(self) -> None:
        results = asyncio.run(sync(self.store, self.config, self.plugins))
        assert all(r.status == "succeeded" for r in results), [r.error for r in results]

    def writes(self) -> int:
        return self.sandbox.changes + self.sandbox.metafields.changes

    def metafields(self, person: str) -> dict[str, str]:
        (customer,) = (
            c
            for c in self.sandbox.state.customers.values()
            if c["email"] == f"{person}@example.com"
        )
        return {name: f["value"] for name, f in (customer.get("_metafields") or {}).items()}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    sandbox = ShopifySandbox(bulk_seconds=0)
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    with running(sandbox) as url:
        world = World(tmp_path, sandbox, url)
        yield world
        world.store.close()


def test_recommendations_reach_shopify_metafields_and_two_more_syncs_write_nothing(
    world: World,
) -> None:
    world.sync()
    # As in test_publish.py: Carl lacks the stove that goes with his tent; the
    # dearer TENTPRO is the up-sell in camping; Dana only bought socks.
    assert world.metafields("carl") == {
        "crmhub.next_best_product": "STOVE",
        "crmhub.up_sell": "TENTPRO",
        "crmhub.affinity": "camping",
    }
    assert world.metafields("ann") == {"crmhub.up_sell": "TENTPRO", "crmhub.affinity": "camping"}
    assert world.metafields("dana") == {"crmhub.affinity": "apparel"}

    writes = world.writes()
    world.sync()
    world.sync()
    assert world.writes() == writes  # read back unchanged: nothing written

    _write_orders(world.orders, {**BASKETS, "carl": ["TENT", "STOVE"]})
    world.sync()
    assert world.metafields("carl") == {"crmhub.up_sell": "TENTPRO", "crmhub.affinity": "camping"}
    writes = world.writes()
    world.sync()
    assert world.writes() == writes
