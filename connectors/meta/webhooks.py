"""Meta's leadgen webhook: the subscription handshake, the signature, the delivery id.

Meta subscribes an endpoint with a GET carrying ``hub.mode=subscribe``,
``hub.verify_token`` (what the app owner typed) and ``hub.challenge``, which
must be echoed back. Deliveries are POSTs signed with ``X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>``.

A ``leadgen`` change holds only ids (``leadgen_id``, ``form_id``,
``page_id``, ``ad_id``, ``adgroup_id``) and ``created_time``; the answers
are read with the token, which the request path must not do. So a delivery
becomes ``lead_events`` references (an Interaction of kind ``lead`` whose
``customer_ref`` is the lead id: the touch point is stored at once), and the
answers come with the next pull of ``leads``, one filtered GET per form from
the stream's cursor, which the runner starts when a delivery arrives. The lead
then links to whoever has the same e-mail, and the reference to the lead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from pydantic import SecretStr

from hub.connector import WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected

__all__ = ["leadgen_changes", "verify"]


def verify(
    request: WebhookRequest, *, app_secret: SecretStr | None, verify_token: SecretStr | None
) -> WebhookDelivery | WebhookReply:
    if request.method.upper() == "GET":
        return _subscription(request, verify_token)
    if app_secret is None:
        raise WebhookRejected(
            "meta: app_secret is not configured, so deliveries cannot be verified"
        )
    scheme, _, signature = request.headers.get("x-hub-signature-256", "").partition("=")
    expected = hmac.new(app_secret.get_secret_value().encode(), request.body, hashlib.sha256)
    if scheme != "sha256" or not hmac.compare_digest(signature, expected.hexdigest()):
        raise WebhookRejected("meta: X-Hub-Signature-256 does not match the body (app secret?)")
    try:
        ids = sorted(
            f"{entry}:{value.get('leadgen_id')}" for entry, value in leadgen_changes(request.body)
        )
    except ValueError as exc:
        raise WebhookRejected(f"meta: the delivery is not a page webhook: {exc}") from None
    if len(ids) == 1:
        return WebhookDelivery(f"leadgen:{ids[0]}")
    digest = hashlib.sha256("\n".join(ids).encode() or request.body).hexdigest()[:40]
    return WebhookDelivery(f"leadgen:{digest}")


def _subscription(request: WebhookRequest, verify_token: SecretStr | None) -> WebhookReply:
    query = request.query
    given = query.get("hub.verify_token", "")
    if (
        query.get("hub.mode") != "subscribe"
        or verify_token is None
        or not hmac.compare_digest(given.encode(), verify_token.get_secret_value().encode())
    ):
        raise WebhookRejected("meta: the subscription's hub.verify_token is not this connection's")
    return WebhookReply(200, query.get("hub.challenge", ""))


def leadgen_changes(body: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(page id, change value) for each ``leadgen`` change of a page delivery."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(payload, dict) or payload.get("object") != "page":
        raise ValueError("object is not 'page'")
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            if change.get("field") == "leadgen" and isinstance(change.get("value"), dict):
                yield str(entry.get("id")), change["value"]
