"""Mailchimp webhooks: form-encoded POSTs, unsigned, to a URL that holds a secret token.

Mailchimp validates a webhook URL with a GET when it is added, then POSTs
``application/x-www-form-urlencoded`` bodies such as ``type=unsubscribe&
fired_at=2024-03-26 21:35:57&data[email]=...&data[merges][FNAME]=...``. It
signs nothing and sends no delivery id, so the token in the path is the only
proof of origin and a hash of the body stands in for the id: a retried
delivery (same body) is stored once. ``fired_at`` carries no zone; it is read
as UTC.

Each delivery becomes a page of the stream it concerns, shaped like the API's
own records so the same mapping reads it: ``subscribe``, ``unsubscribe``,
``cleaned`` and ``profile`` a member (``profile`` says nothing about status,
so it claims no consent), ``upemail`` the member under its old id with the
new address (the link keeps the person; the next pull links the new id by
e-mail), ``campaign`` a sent campaign.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from pydantic import SecretStr

from connectors.mailchimp.mapping import mailchimp_time, subscriber_hash
from hub.connector import Page, WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected

__all__ = ["parse_form", "verify", "webhook_pages"]

_KEY = re.compile(r"[^\[\]]+")
_STATUS = {"subscribe": "subscribed", "unsubscribe": "unsubscribed", "cleaned": "cleaned"}


def verify(
    request: WebhookRequest, secret: SecretStr | None, connection: str
) -> WebhookDelivery | WebhookReply:
    if secret is None:
        raise WebhookRejected(
            f"crmhub: connection {connection!r} has no webhook_secret; set one and give "
            f"Mailchimp the URL /webhooks/{connection}/<webhook_secret>"
        )
    if not hmac.compare_digest(
        request.path.strip("/").encode(), secret.get_secret_value().encode()
    ):
        raise WebhookRejected(f"crmhub: connection {connection!r}: the webhook URL token is wrong")
    if request.method.upper() in ("GET", "HEAD"):
        return WebhookReply(200, "")  # Mailchimp's check that the URL answers
    return WebhookDelivery(hashlib.sha256(request.body).hexdigest())


def parse_form(body: bytes) -> dict[str, Any]:
    """``data[merges][FNAME]=Ann`` -> ``{"data": {"merges": {"FNAME": "Ann"}}}``."""
    parsed: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = _KEY.findall(key)
        node = parsed
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts:
            node[parts[-1]] = value
    return parsed


def webhook_pages(request: WebhookRequest) -> list[tuple[str, Page]]:
    form = parse_form(request.body)
    kind, data = form.get("type"), form.get("data") or {}
    fired = _fired_at(form.get("fired_at"))
    if kind == "campaign":
        campaign = {
            "id": data.get("id"),
            "status": data.get("status"),
            "send_time": fired,
            "settings": {"title": data.get("subject"), "subject_line": data.get("subject")},
        }
        return [("campaigns", Page([campaign], cursor=None))]
    if kind == "upemail":
        member = {
            "id": subscriber_hash(data.get("old_email", "")),
            "email_address": data.get("new_email"),
            "last_changed": fired,
        }
        return [("customers", Page([member], cursor=None))]
    if kind not in (*_STATUS, "profile") or not data.get("email"):
        return []
    member_id = subscriber_hash(data["email"])
    if kind == "unsubscribe" and data.get("action") == "delete":
        return [("customers", Page([], cursor=None, deleted=[member_id]))]
    member = {
        "id": member_id,
        "email_address": data["email"],
        "merge_fields": data.get("merges") or {},
        "status": _STATUS.get(kind, ""),
        "last_changed": fired,
        "timestamp_opt": fired if kind == "subscribe" else "",
        "unsubscribed_at": fired if kind in ("unsubscribe", "cleaned") else "",
    }
    return [("customers", Page([member], cursor=None))]


def _fired_at(value: Any) -> str:
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return mailchimp_time(moment)
