"""Shopify's webhooks at the service's endpoint: HMAC checked, stored once, applied once.

The sandbox posts its deliveries (Shopify's headers, base64 HMAC-SHA256 of
the raw body with the app secret) to the service's ASGI app; a delivery signed
with another secret is refused with 401; a retry of the same webhook id is
stored once; the inbox drain brings the change into the hub.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import select

from connectors.shopify.sandbox import ShopifySandbox
from hub.config import load_config
from hub.engine.runner import build_connector
from hub.plugins import load_plugins
from hub.service.webhooks import webhook_app
from hub.service.work import apply_webhooks
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link, WebhookInbox

pytestmark = pytest.mark.anyio


async def test_signed_deliveries_are_stored_once_and_applied_forged_ones_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = ShopifySandbox()
    sandbox.populate(3, seed=5, orders=0)
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    shop = {
        "connector": "shopify",
        "direction": "pull",
        "streams": ["customers"],
        "config": sandbox.config_for("http://shop.test"),
    }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connections": {"shop": shop}}))
    plugins = load_plugins()
    config = load_config(path, plugins)
    app = webhook_app(store, {"shop": build_connector(config, plugins, "shop")})
    transport = httpx.ASGITransport(app=app)
    sandbox.webhooks.url = "http://hub.test/webhooks/shop"

    customer = sorted(sandbox.state.customers)[0]
    sandbox.touch("customers", customer)
    genuine = sandbox.webhooks.pending[0]
    assert await sandbox.webhooks.deliver(transport) == [200]
    sandbox.webhooks.pending = [genuine]  # Shopify retries with the same webhook id
    assert await sandbox.webhooks.deliver(transport) == [200]
    node = sandbox.state.customers[customer]
    forged = sandbox.webhooks.delivery(
        "customers/update", sandbox.webhooks.payload("customers/update", node), secret="guessed"
    )
    sandbox.webhooks.pending = [forged]
    assert await sandbox.webhooks.deliver(transport) == [401]

    with store.session() as session:
        assert len(session.exec(select(WebhookInbox)).all()) == 1
    assert await apply_webhooks(store, config, plugins, "shop") == 1
    with store.session() as session:
        link = session.exec(select(Link).where(Link.external_id == customer)).one()
        row = session.get_one(CustomerRow, link.hub_id)
    assert str(row.data["last_name"]).endswith("-Edited")
