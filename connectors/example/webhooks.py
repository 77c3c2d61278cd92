"""The example API's webhooks, as the connector checks and reads them.

Pure functions over the raw request, so the signature check can be table-tested
and runs on the request path without I/O. The protocol is described in the
docstring of the sandbox module.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from hub.connector import Page, WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected

__all__ = ["EVENT_HEADER", "SIGNATURE_HEADER", "events_to_pages", "sign", "verify"]

SIGNATURE_HEADER = "x-example-signature"
EVENT_HEADER = "x-example-event-id"
_UPSERTS = frozenset({"contact.created", "contact.updated"})


def sign(secret: str, payload: bytes) -> str:
    """The ``X-Example-Signature`` value: ``sha256=`` and the hex HMAC of the raw bytes."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify(secret: str | None, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
    """A signed event becomes a delivery; a signed ``challenge`` GET is answered at once."""
    if not secret:
        raise WebhookRejected("no webhook_secret is set for this connection")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if request.method == "GET":
        challenge = request.query.get("challenge", "")
        if challenge and hmac.compare_digest(signature, sign(secret, challenge.encode())):
            return WebhookReply(body=challenge)
        raise WebhookRejected("the challenge is missing or its signature does not match")
    if not hmac.compare_digest(signature, sign(secret, request.body)):
        raise WebhookRejected("the X-Example-Signature header does not match the body")
    event_id = request.headers.get(EVENT_HEADER)
    if not event_id:
        raise WebhookRejected("the delivery has no X-Example-Event-Id header")
    return WebhookDelivery(delivery_id=event_id)


def events_to_pages(body: bytes) -> list[tuple[str, Page]]:
    """One event is one contact: upserted as a record, deleted as a tombstone."""
    event = json.loads(body)
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise ValueError("the event body is not an object with a 'data' contact")
    kind, contact = event.get("type"), event["data"]
    if kind in _UPSERTS:
        return [("customers", Page(records=[contact], cursor=None))]
    if kind == "contact.deleted":
        return [("customers", Page(records=[], cursor=None, deleted=[str(contact["id"])]))]
    raise ValueError(f"event type {kind!r} is not one the example API sends")
