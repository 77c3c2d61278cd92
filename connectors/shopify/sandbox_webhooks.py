"""Signed webhook deliveries from the sandbox, as Shopify sends them.

With ``url`` set (a subscription), every change to a customer or order
queues a POST of its REST-shaped payload with Shopify's headers:
``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw
body with the app's secret), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id``
and ``X-Shopify-Triggered-At``
(tests/fixtures/vendor/shopify/headers/webhook_request_headers.json).
:meth:`WebhookOutbox.deliver` sends what is queued; a retry of a delivery
keeps its webhook id, as Shopify's retries do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from connectors.shopify.config import DEFAULT_API_VERSION
from connectors.shopify.emulator import Node
from connectors.shopify.rest import rest_customer, rest_order

if TYPE_CHECKING:
    from connectors.shopify.sandbox import ShopifySandbox

__all__ = ["TOPICS", "Delivery", "WebhookOutbox", "sign"]

TOPICS = (
    "customers/create",
    "customers/update",
    "customers/delete",
    "orders/create",
    "orders/updated",
)


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True, slots=True)
class Delivery:
    topic: str
    headers: dict[str, str]
    body: bytes


class WebhookOutbox:
    def __init__(self, sandbox: ShopifySandbox, secret: str, shop: str) -> None:
        self.sandbox = sandbox
        self.secret = secret
        self.shop = shop
        self.url: str | None = None
        """Where deliveries go; None until a test or the demo subscribes."""
        self.pending: list[Delivery] = []
        self.sent: list[tuple[Delivery, int]] = []

    def changed(self, topic: str, node: Node) -> None:
        if self.url is None or topic not in TOPICS:
            return
        self.pending.append(self.delivery(topic, self.payload(topic, node)))

    def payload(self, topic: str, node: Node) -> Node:
        state = self.sandbox.state
        if topic == "customers/delete":
            return {
                "id": int(node["id"].rsplit("/", 1)[1]),
                "phone": None,
                "addresses": [],
                "tax_exemptions": [],
                "email_marketing_consent": None,
                "sms_marketing_consent": None,
                "admin_graphql_api_id": node["id"],
            }
        if topic.startswith("customers/"):
            return rest_customer(node, *state.spent(node["id"]))
        buyer = state.customers.get(node.get("customerId") or "")
        customer = (
            {
                "id": int(buyer["id"].rsplit("/", 1)[1]),
                "email": buyer.get("email"),
                "admin_graphql_api_id": buyer["id"],
            }
            if buyer
            else None
        )
        return rest_order(node, customer)

    def delivery(self, topic: str, payload: Node, *, secret: str | None = None) -> Delivery:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, secret or self.secret),
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": DEFAULT_API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": self.sandbox.now().isoformat(),
        }
        return Delivery(topic, headers, body)

    async def deliver(self, transport: httpx.AsyncBaseTransport | None = None) -> list[int]:
        """POST every queued delivery to ``url``; those that fail stay queued for a retry."""
        if self.url is None:
            raise RuntimeError("no webhook subscription: set sandbox.webhooks.url first")
        statuses, failed = [], []
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
            for delivery in self.pending:
                try:
                    response = await client.post(
                        self.url, content=delivery.body, headers=delivery.headers
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                statuses.append(status)
                self.sent.append((delivery, status))
                if not 200 <= status < 300:
                    failed.append(delivery)
        self.pending = failed
        return statuses
