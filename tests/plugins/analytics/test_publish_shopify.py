"""Recommendations reach Shopify customer metafields through `crmhub sync` and the sandbox.

The shop of tests/plugins/analytics/shop.py, as in test_publish.py, and a
Shopify store on loopback that the hub fills (customers, then their
``crmhub.*`` metafields). ``analytics.refresh_after_sync`` recomputes the
recommendations after each pass's pulls. Writes at the sandbox (customer
mutations and metafield sets and deletes) are counted: "nothing changed"
means nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.shopify.sandbox import ShopifySandbox
from hub.testing.serve import running
from tests.plugins.analytics.shop import BASKETS, ShopWorld, write_orders

METAFIELDS = {
    "crmhub.next_best_product": "recommendations.next_best_product",
    "crmhub.up_sell": "recommendations.up_sell",
    "crmhub.affinity": "recommendations.affinity",
}


class World(ShopWorld):
    def __init__(self, tmp_path: Path, sandbox: ShopifySandbox, url: str) -> None:
        storefront = {
            "connector": "shopify",
            "direction": "both",
            "streams": ["customers"],
            "config": {**sandbox.config_for(url), "bulk_poll": 0.05, "metafields": METAFIELDS},
        }
        super().__init__(tmp_path, "storefront", storefront)
        self.sandbox = sandbox

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

    write_orders(world.orders, {**BASKETS, "carl": ["TENT", "STOVE"]})
    world.sync()
    assert world.metafields("carl") == {"crmhub.up_sell": "TENTPRO", "crmhub.affinity": "camping"}
    writes = world.writes()
    world.sync()
    assert world.writes() == writes
