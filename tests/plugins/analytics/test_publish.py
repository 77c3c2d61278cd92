"""Recommendations reach Mailchimp merge fields through the real engine and the sandbox.

A shop (the file connector, customers and orders) and a Mailchimp audience
on loopback; `analytics.refresh_after_sync` makes every sync recompute the
recommendations after its pulls, so they go out with the same pass's pushes.
Writes at the sandbox are counted: "nothing changed" means nothing written.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store, open_store
from hub.store.tables import CustomerRow
from hub.testing.serve import running

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
MERGE_FIELDS = {
    "FNAME": "first_name",
    "NEXTBUY": "recommendations.next_best_product",
    "UPSELL": "recommendations.up_sell",
    "FAVCAT": "recommendations.affinity",
}


HEADER = ["order_id", "email", "placed_at", "currency", "total", "sku", "name", "qty"]
HEADER += ["category", "price"]


def _write_orders(path: Path, baskets: dict[str, list[str]]) -> None:
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


class World:
    def __init__(self, tmp_path: Path, sandbox: MailchimpSandbox, url: str) -> None:
        with (tmp_path / "shop.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "email", "first_name"])
            writer.writerows([f"C{i}", f"{p}@example.com", p.title()] for i, p in enumerate(PEOPLE))
        self.orders = tmp_path / "orders.csv"
        _write_orders(self.orders, BASKETS)
        (tmp_path / "key.secret").write_text(API_KEY, encoding="utf-8")
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
                },
                "newsletter": {
                    "connector": "mailchimp",
                    "direction": "both",
                    "streams": ["customers"],
                    "config": {
                        **sandbox.config_for(url),
                        "api_key": "file:key.secret",
                        "merge_fields": MERGE_FIELDS,
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

    def merge_fields(self, person: str) -> dict[str, Any]:
        fields = self.sandbox.members[subscriber_hash(f"{person}@example.com")]["merge_fields"]
        return {tag: fields.get(tag) for tag in ("NEXTBUY", "UPSELL", "FAVCAT")}

    def hub_record(self, person: str) -> CustomerRow:
        with self.store.session() as session:
            return session.exec(
                select(CustomerRow).where(CustomerRow.primary_email == f"{person}@example.com")
            ).one()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sandbox = MailchimpSandbox(batch_seconds=0)
    # The audience has text merge fields for the recommendations, as a user creates them.
    sandbox.merge_types.update({tag: "text" for tag in ("NEXTBUY", "UPSELL", "FAVCAT")})
    with running(sandbox) as url:
        world = World(tmp_path, sandbox, url)
        yield world
        world.store.close()


def test_recommendations_reach_merge_fields_and_follow_recomputation_without_ping_pong(
    world: World,
) -> None:
    world.sync()
    # 5 buyers; TENT -> STOVE: 2 bought both (support 0.4), lift 2*5/(3*2) = 1.67.
    # Carl lacks the stove. Up-sell: the dearer TENTPRO in the favourite category.
    assert world.merge_fields("carl") == {
        "NEXTBUY": "STOVE",
        "UPSELL": "TENTPRO",
        "FAVCAT": "camping",
    }
    assert world.merge_fields("ann") == {"NEXTBUY": "", "UPSELL": "TENTPRO", "FAVCAT": "camping"}
    assert world.merge_fields("dana") == {"NEXTBUY": "", "UPSELL": "", "FAVCAT": "apparel"}
    carl = world.hub_record("carl")
    assert carl.data["recommendations"]["next_best_product"] == "STOVE"
    assert carl.provenance["recommendations"][0] == "analytics"

    writes = world.sandbox.writes
    world.sync()
    world.sync()
    assert world.sandbox.writes == writes  # read back unchanged: nothing written anywhere

    _write_orders(world.orders, {**BASKETS, "carl": ["TENT", "STOVE"]})
    world.sync()
    assert world.merge_fields("carl") == {"NEXTBUY": "", "UPSELL": "TENTPRO", "FAVCAT": "camping"}
    assert "next_best_product" not in world.hub_record("carl").data["recommendations"]
    writes = world.sandbox.writes
    world.sync()
    assert world.sandbox.writes == writes


def test_a_value_edited_in_mailchimp_never_overwrites_the_hubs_recommendation(
    world: World,
) -> None:
    world.sync()
    member = world.sandbox.members[subscriber_hash("carl@example.com")]
    member["merge_fields"]["NEXTBUY"] = "SOCKS"
    member["last_changed"] = "2030-01-01T00:00:00+00:00"
    world.config.analytics.refresh_after_sync = False  # the pull alone, no recomputation

    world.sync()

    assert world.hub_record("carl").data["recommendations"]["next_best_product"] == "STOVE"
