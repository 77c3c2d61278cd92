"""A trigger's webhook: signed, retried across refreshes, recorded, and sent once it is answered.

The receiver is a Starlette app on loopback that checks the signature as a
real receiver would, and can be told to fail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.config import HubConfig
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import TriggerFiring
from hub.testing.serve import running
from tests.plugins.seed import customer, day, order

AS_OF = day("2026-12-01")
SECRET = "s3cret-hook-key"


@dataclass
class Receiver:
    """Keeps every delivery it accepted; answers 503 while ``down``."""

    down: bool = False
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-crmhub-signature", ""), expected):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if self.down:
            self.refused += 1
            return JSONResponse({"error": "try later"}, status_code=503)
        payload = json.loads(body)
        assert request.headers["x-crmhub-delivery"] == payload["delivery"]
        self.accepted.append(payload)
        return Response(status_code=204)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/crm", self.hook, methods=["POST"])])


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with running(receiver) as url:  # type: ignore[arg-type]  # any object with an ASGI app
        yield receiver, f"{url}/hooks/crm"


def _config(url: str, secret: str = SECRET, **webhook: Any) -> HubConfig:
    trigger = {
        "event": "order_over",
        "amount": "100",
        "webhook": {"url": url, "secret": SecretStr(secret), **webhook},
    }
    return HubConfig.model_validate(
        {"triggers": {"big-order": trigger}}, context={"plugins": load_plugins()}
    )


def _firings(store: Store) -> list[TriggerFiring]:
    with store.session() as session:
        return list(session.exec(select(TriggerFiring)))


def test_a_firing_is_posted_signed_with_the_customer_and_recorded(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    customer(store, "ann", first_name="Ann", emails=["ann@example.com"])
    order_id = order(store, "ann", "2026-11-30", "250")

    results = load_plugins().refresh(store, _config(url), AS_OF)

    assert {r.plugin: r.counts for r in results}["triggers"]["actions done"] == 1
    [sent] = hooks.accepted
    assert sent["trigger"] == "big-order" and sent["occasion"] == f"order:{order_id}"
    assert sent["customer"]["first_name"] == "Ann" and sent["hub_id"] == "ann"
    [firing] = _firings(store)
    assert firing.action == "webhook" and not firing.pending
    assert firing.result == "webhook: HTTP 204"


def test_a_failed_call_is_retried_by_the_next_refresh_and_never_sent_twice(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    hooks, url = receiver
    customer(store, "ann")
    order(store, "ann", "2026-11-30", "250")
    hooks.down = True
    config = _config(url)

    load_plugins().refresh(store, config, AS_OF)
    [firing] = _firings(store)
    assert firing.pending and firing.attempts == 1 and hooks.refused == 3  # quick retries
    assert firing.result.startswith("webhook: failed 1x, will retry")
    assert "HTTP 503" in firing.result and SECRET not in firing.result

    hooks.down = False
    load_plugins().refresh(store, config, AS_OF)
    load_plugins().refresh(store, config, AS_OF)

    [firing] = _firings(store)
    assert not firing.pending and firing.attempts == 2 and firing.result == "webhook: HTTP 204"
    assert len(hooks.accepted) == 1


def test_a_receiver_that_refuses_the_signature_is_given_up_after_max_attempts(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    customer(store, "ann")
    order(store, "ann", "2026-11-30", "250")
    config = _config(url, secret="not-the-receivers-key", max_attempts=2)

    load_plugins().refresh(store, config, AS_OF)
    load_plugins().refresh(store, config, AS_OF)
    load_plugins().refresh(store, config, AS_OF)

    [firing] = _firings(store)
    assert not firing.pending and firing.attempts == 2
    assert firing.result.startswith("webhook: gave up after 2 attempts")
    assert "not-the-receivers-key" not in firing.result
