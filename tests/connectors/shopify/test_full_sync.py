"""Done when: `crmhub sync` mirrors a whole shop, then fetches only what changed.

The sandbox is served on loopback and driven by the real command, as a user
would run it: a first sync (bulk exports), changes in the shop (profiles,
consent, a new customer, orders), a second sync. Afterwards every customer,
consent state and order the shop holds is compared with the hub field by
field, through the connector's own mapping of what the shop serves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select
from typer.testing import CliRunner

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.mapping import HELD_FIELDS
from connectors.shopify.sandbox import ShopifySandbox
from hub.cli import app
from hub.model import Customer, Order
from hub.store.database import open_store
from hub.store.queries import customer_dict, iter_orders
from hub.store.tables import CustomerRow, Link
from hub.testing.serve import running

SIZES = [
    pytest.param(500, 1_250, id="500-customers"),
    pytest.param(2_000, 5_000, id="2000-customers", marks=pytest.mark.slow),
    pytest.param(20_000, 50_000, id="20000-customers", marks=pytest.mark.slow),
]
COMPARED = sorted(HELD_FIELDS | {"attributes"})


def _sync(runner: CliRunner, config: Path) -> dict[str, dict[str, int]]:
    result = runner.invoke(app, ["sync", "-c", str(config), "--json"])
    assert result.exit_code == 0, result.output
    return {entry["stream"]: entry["counts"] for entry in json.loads(result.stdout)}


def _change_the_shop(sandbox: ShopifySandbox) -> tuple[set[str], set[str]]:
    """Edits a shop owner makes between two syncs; returns the changed customer and order ids."""
    customers = sorted(sandbox.state.customers)
    touched = set(customers[::97])
    for customer_id in touched:
        sandbox.touch("customers", customer_id)
    opted_out = customers[5::131]
    for customer_id in opted_out:
        given = {"marketingState": "UNSUBSCRIBED", "marketingOptInLevel": "SINGLE_OPT_IN"}
        sandbox.writes.email_consent(
            None, None, {"customerId": customer_id, "emailMarketingConsent": given}
        )
    created = sandbox.writes.customer_create(
        None, None, {"email": "nueva.clienta@example.es", "firstName": "Nueva", "tags": ["web"]}
    )
    orders = set(sorted(sandbox.state.orders)[::89])
    for order_id in orders:
        sandbox.touch("orders", order_id)
    return touched | set(opted_out) | {created["customer"]["id"]}, orders


def _hub_ids(session: Any, obj: str) -> dict[str, str]:
    links = session.exec(select(Link).where(Link.connection == "shop", Link.object == obj))
    return {link.external_id: link.hub_id for link in links}


@pytest.mark.parametrize(("customers", "orders"), SIZES)
def test_the_hub_matches_the_shop_after_a_full_and_an_incremental_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, customers: int, orders: int
) -> None:
    sandbox = ShopifySandbox(bulk_seconds=0.2)
    sandbox.populate(customers, seed=11, orders=orders)
    runner = CliRunner()
    with running(sandbox) as url:
        settings = {**sandbox.config_for(url), "bulk_poll": 0.2, "overlap": 5}
        connection = {
            "connector": "shopify",
            "config": settings,
            "direction": "pull",
            "streams": ["customers", "orders"],
        }
        config = tmp_path / "crmhub.yaml"
        store_url = f"sqlite:///{tmp_path / 'hub.db'}"
        config.write_text(yaml.safe_dump({"store": store_url, "connections": {"shop": connection}}))
        for name, value in sandbox.environment().items():
            monkeypatch.setenv(name, value)
        first = _sync(runner, config)
        assert first["customers"]["read"] == customers and first["orders"]["read"] == orders
        assert first["customers"]["created"] == customers
        changed_customers, changed_orders = _change_the_shop(sandbox)
        second = _sync(runner, config)
    assert second["customers"]["read"] == len(changed_customers)
    assert second["orders"]["read"] == len(changed_orders)
    assert second["customers"]["dead_letters"] == second["orders"]["dead_letters"] == 0

    mapper = ShopifyConnector(
        ShopifyConfig.model_validate({**settings, "access_token": "unused"}), connection="shop"
    )
    store = open_store(store_url)
    try:
        with store.session() as session:
            customer_ids, order_ids = _hub_ids(session, "customer"), _hub_ids(session, "order")
            shop_customers = sandbox.records("customers")
            assert set(customer_ids) == set(shop_customers)
            for external_id, node in shop_customers.items():
                expected = mapper.to_canonical("customers", node).record
                assert isinstance(expected, Customer)
                row = session.get(CustomerRow, customer_ids[external_id])
                assert row is not None
                held = Customer.model_validate(
                    {key: value for key, value in customer_dict(row).items() if key in COMPARED}
                )
                for field in COMPARED:
                    assert getattr(held, field) == getattr(expected, field), (external_id, field)
            hub_orders = dict(iter_orders(session))
            shop_orders = sandbox.records("orders")
            assert set(order_ids) == set(shop_orders)
            for external_id, node in shop_orders.items():
                expected_order = mapper.to_canonical("orders", node).record
                assert isinstance(expected_order, Order)
                stored = hub_orders[order_ids[external_id]]
                skip = {"customer_ref", "customer_email", "customer_hub_id"}
                assert stored.model_dump(exclude=skip) == expected_order.model_dump(exclude=skip)
                buyer = expected_order.customer_ref
                assert stored.customer_hub_id == (customer_ids[buyer] if buyer else None)
    finally:
        store.close()
