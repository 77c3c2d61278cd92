"""Shopify webhook deliveries: checking the signature, and turning payloads into pages.

Shopify signs the raw body with the app's client secret (HMAC-SHA256,
base64, in ``X-Shopify-Hmac-Sha256``); the check compares in constant time
and runs before anything is stored. ``X-Shopify-Webhook-Id`` stays the same
when Shopify retries a delivery, so it is the id the inbox deduplicates on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from pydantic import SecretStr

from connectors.shopify.rest import customer_node, order_node
from hub.connector import Page, WebhookDelivery, WebhookRequest
from hub.errors import WebhookRejected

__all__ = ["TOPICS", "delivery_of", "pages_of"]

TOPICS = {
    "customers/create": "customers",
    "customers/update": "customers",
    "customers/delete": "customers",
    "orders/create": "orders",
    "orders/updated": "orders",
}


def delivery_of(
    request: WebhookRequest, secret: SecretStr | None, connection: str
) -> WebhookDelivery:
    if secret is None:
        raise WebhookRejected(
            f"crmhub: connection {connection!r}: a Shopify webhook arrived but app_secret is "
            "not set, so it cannot be verified; set app_secret to the app's client secret"
        )
    given = request.headers.get("x-shopify-hmac-sha256", "")
    expected = base64.b64encode(
        hmac.new(secret.get_secret_value().encode(), request.body, hashlib.sha256).digest()
    ).decode()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected(
            f"crmhub: connection {connection!r}: the webhook's X-Shopify-Hmac-Sha256 does not "
            "match its body; it was not sent by Shopify with this app's secret"
        )
    webhook_id = request.headers.get("x-shopify-webhook-id")
    if not webhook_id:
        raise WebhookRejected(f"crmhub: connection {connection!r}: no X-Shopify-Webhook-Id")
    return WebhookDelivery(delivery_id=webhook_id)


def pages_of(request: WebhookRequest) -> list[tuple[str, Page]]:
    """The delivery as a page of its stream; a deleted customer as ``Page.deleted``."""
    topic = request.headers.get("x-shopify-topic", "")
    stream = TOPICS.get(topic)
    if stream is None:
        return []
    payload = json.loads(request.body)
    if topic == "customers/delete":
        gone = payload.get("admin_graphql_api_id") or f"gid://shopify/Customer/{payload['id']}"
        return [(stream, Page(records=[], cursor=None, deleted=[str(gone)]))]
    node = customer_node(payload) if stream == "customers" else order_node(payload)
    return [(stream, Page(records=[node], cursor=None))]
