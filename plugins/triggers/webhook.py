"""A trigger's webhook action: a signed JSON POST about each firing, retried until answered.

The firing is committed first, marked ``pending``; the call is made after
that commit, so a crash between the two leaves the firing pending and the
next refresh delivers it. Delivery is therefore at least once: each body
carries a delivery id (trigger/customer/occasion) for the receiver to drop a
repeat, and the ``X-Crmhub-Signature`` header (``sha256=`` and the hex
HMAC-SHA256 of the raw body under the trigger's secret, as GitHub and Shopify
sign theirs) proves it came from this hub. A call is retried a few times at
once (through hub.http's client, which also masks the secret in any error),
then on later refreshes, up to ``webhook.max_attempts`` of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from hub.config import TriggerConfig, WebhookAction
from hub.errors import CrmhubError
from hub.http import ApiClient, RetrySettings

__all__ = ["SIGNATURE_HEADER", "Call", "body_of", "run_coroutine", "send_all", "signature"]

SIGNATURE_HEADER = "X-Crmhub-Signature"
DELIVERY_HEADER = "X-Crmhub-Delivery"
QUICK_RETRIES = RetrySettings(max_attempts=3, max_elapsed=30, initial_wait=0.5, max_wait=5)
CONCURRENCY = 8
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One firing to deliver."""

    trigger: str
    hub_id: str
    occasion: str
    fired_at: datetime
    customer: Mapping[str, Any] | None  # None: erased or merged away since the firing

    @property
    def delivery(self) -> str:
        return f"{self.trigger}/{self.hub_id}/{self.occasion}"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(call: Call, trigger: TriggerConfig) -> bytes:
    """The JSON sent: what fired, for whom, and the customer as the hub holds them."""
    payload = {
        "delivery": call.delivery,
        "trigger": call.trigger,
        "event": trigger.event,
        "occasion": call.occasion,
        "fired_at": call.fired_at.isoformat(),
        "hub_id": call.hub_id,
        "customer": dict(call.customer) if call.customer is not None else None,
    }
    return json.dumps(payload, sort_keys=True, default=str).encode()


async def send_all(
    calls: list[Call], triggers: Mapping[str, TriggerConfig]
) -> dict[str, tuple[bool, str]]:
    """Deliver every call; delivery id -> (answered with success, what happened)."""
    clients: dict[str, ApiClient] = {}
    limit = asyncio.Semaphore(CONCURRENCY)

    async def send(call: Call) -> tuple[str, tuple[bool, str]]:
        trigger = triggers[call.trigger]
        hook = trigger.webhook
        assert hook is not None  # only triggers with a webhook have pending calls
        client = clients.setdefault(call.trigger, _client(call.trigger, hook))
        body = body_of(call, trigger)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(hook.secret.get_secret_value(), body),
            DELIVERY_HEADER: call.delivery,
        }
        async with limit:
            try:
                response = await client.post(
                    str(hook.url), content=body, headers=headers, safe_to_retry=True
                )
            except CrmhubError as exc:
                return call.delivery, (False, str(exc))
        return call.delivery, (True, f"HTTP {response.status_code}")

    try:
        return dict(await asyncio.gather(*(send(call) for call in calls)))
    finally:
        for client in clients.values():
            await client.aclose()


def _client(trigger: str, hook: WebhookAction) -> ApiClient:
    return ApiClient(
        "",
        connection=f"trigger {trigger} webhook",
        secrets=[hook.secret],
        timeout=hook.timeout,
        retry=QUICK_RETRIES,
    )


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run from synchronous code, in a thread of its own when an event loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
