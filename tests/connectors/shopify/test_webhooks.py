"""Shopify webhooks: signatures checked in constant time, payloads into the pull pipeline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.shopify.config import ShopifyConfig
from connectors.shopify.connector import ShopifyConnector
from connectors.shopify.sandbox import APP_SECRET, SHOP, TOKEN, ShopifySandbox
from connectors.shopify.sandbox_webhooks import Delivery
from hub.connector import WebhookDelivery, WebhookRequest
from hub.errors import WebhookRejected
from hub.http import VirtualClock
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify"
HEADERS = json.loads((VENDOR / "headers" / "webhook_request_headers.json").read_text())["webhooks"]


def _connector(secret: str | None = APP_SECRET) -> ShopifyConnector:
    config = ShopifyConfig(
        shop=SHOP,
        base_url=BASE_URL,
        access_token=SecretStr(TOKEN),
        app_secret=SecretStr(secret) if secret else None,
    )
    return ShopifyConnector(config, connection="shop")


def _request(delivery: Delivery) -> WebhookRequest:
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return WebhookRequest("POST", "", headers, {}, delivery.body)


def _signed(body: bytes, topic: str, secret: str = APP_SECRET) -> WebhookRequest:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        **{name.lower(): value for name, value in HEADERS.items()},
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": signature,
    }
    return WebhookRequest("POST", "", headers, {}, body)


@pytest.fixture
def sandbox() -> ShopifySandbox:
    sandbox = ShopifySandbox(clock=VirtualClock())
    sandbox.populate(10, seed=2)
    sandbox.webhooks.url = "http://hub.test/webhooks/shop"
    return sandbox


def test_a_delivery_signed_with_the_app_secret_is_accepted_by_its_webhook_id() -> None:
    """The order body is Shopify's own REST order (shopify_python_api, MIT)."""
    body = (VENDOR / "rest_fixtures" / "order.json").read_bytes()
    request = _signed(body, "orders/create")
    assert _connector().verify_webhook(request) == WebhookDelivery(HEADERS["X-Shopify-Webhook-Id"])


@pytest.mark.parametrize(
    "tamper",
    ["another secret", "a changed body", "no signature"],
)
def test_a_bad_signature_is_rejected(tamper: str) -> None:
    body = (VENDOR / "rest_fixtures" / "order.json").read_bytes()
    request = _signed(body, "orders/create", "wrong" if tamper == "another secret" else APP_SECRET)
    if tamper == "a changed body":
        request = WebhookRequest("POST", "", request.headers, {}, body.replace(b"409.94", b"0.01"))
    if tamper == "no signature":
        headers = {k: v for k, v in request.headers.items() if k != "x-shopify-hmac-sha256"}
        request = WebhookRequest("POST", "", headers, {}, body)
    with pytest.raises(WebhookRejected, match="X-Shopify-Hmac-Sha256"):
        _connector().verify_webhook(request)


def test_without_an_app_secret_nothing_is_accepted() -> None:
    body = b"{}"
    with pytest.raises(WebhookRejected, match="app_secret"):
        _connector(None).verify_webhook(_signed(body, "customers/update"))


async def test_a_webhook_maps_to_the_same_record_as_a_pull(sandbox: ShopifySandbox) -> None:
    customer_id = sorted(sandbox.state.customers)[2]
    sandbox.touch("customers", customer_id)
    order_id = sorted(sandbox.state.orders)[4]
    sandbox.touch("orders", order_id)
    connector = _connector()
    pulled = {**sandbox.records("customers"), **sandbox.records("orders")}
    for delivery in sandbox.webhooks.pending:
        request = _request(delivery)
        assert (
            connector.verify_webhook(request).delivery_id
            == delivery.headers["X-Shopify-Webhook-Id"]
        )
        [(stream, page)] = connector.webhook_pages(request)
        assert page.cursor is None
        [node] = page.records
        from_hook = connector.to_canonical(stream, node)
        from_pull = connector.to_canonical(stream, pulled[from_hook.external_id])
        assert from_hook == from_pull
    assert [d.topic for d in sandbox.webhooks.pending] == ["customers/update", "orders/updated"]


async def test_a_deleted_customer_arrives_as_a_deleted_id(sandbox: ShopifySandbox) -> None:
    connector = _connector()
    created = sandbox.writes.customer_create(None, None, {"email": "gone@example.com"})
    customer_id = created["customer"]["id"]
    sandbox.writes.customer_delete(None, None, {"id": customer_id})
    topics = [d.topic for d in sandbox.webhooks.pending]
    assert topics == ["customers/create", "customers/delete"]
    [(stream, page)] = connector.webhook_pages(_request(sandbox.webhooks.pending[-1]))
    assert (stream, page.records, page.deleted) == ("customers", [], [customer_id])


async def test_the_sandbox_posts_signed_deliveries_to_the_subscription(
    sandbox: ShopifySandbox,
) -> None:
    received: list[httpx.Request] = []

    def hub(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200 if len(received) > 1 else 503)

    sandbox.touch("customers", sorted(sandbox.state.customers)[0])
    sandbox.touch("customers", sorted(sandbox.state.customers)[1])
    assert await sandbox.webhooks.deliver(httpx.MockTransport(hub)) == [503, 200]
    assert len(sandbox.webhooks.pending) == 1  # the refused one waits for a retry
    assert await sandbox.webhooks.deliver(httpx.MockTransport(hub)) == [200]
    first, retried = received[0], received[2]
    assert first.headers["X-Shopify-Webhook-Id"] == retried.headers["X-Shopify-Webhook-Id"]
    connector = _connector()
    request = WebhookRequest(
        "POST", "", {k.lower(): v for k, v in retried.headers.items()}, {}, retried.content
    )
    assert connector.verify_webhook(request).delivery_id == retried.headers["X-Shopify-Webhook-Id"]
