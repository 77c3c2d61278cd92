"""The webhook endpoint with the example sandbox's signed deliveries, over the real store."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from connectors.example.sandbox import WEBHOOK_SECRET, ExampleSandbox
from connectors.example.webhooks import sign
from hub.config import HubConfig
from hub.engine.runner import build_connector
from hub.plugins import Plugins
from hub.service.inbox import drain_inbox
from hub.service.webhooks import webhook_app
from hub.store.database import Store
from hub.store.tables import Link, Outbox, Run, SyncState, WebhookInbox

pytestmark = pytest.mark.anyio
URL = "/webhooks/crm"


@pytest.fixture
async def hub(
    store: Store, hub_config: HubConfig, plugins: Plugins
) -> AsyncIterator[httpx.AsyncClient]:
    connectors = {name: build_connector(hub_config, plugins, name) for name in ("crm", "mail")}
    app = webhook_app(store, connectors)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        yield client


@pytest.fixture
def crm() -> ExampleSandbox:
    sandbox = ExampleSandbox()
    sandbox.populate(30, seed=3)
    for contact_id in list(sandbox.contacts)[:10]:
        sandbox.touch("customers", contact_id)
    return sandbox


def _inbox(store: Store) -> list[WebhookInbox]:
    with store.session() as session:
        return list(session.exec(select(WebhookInbox)))


def _links(store: Store, connection: str) -> list[Link]:
    with store.session() as session:
        return list(session.exec(select(Link).where(Link.connection == connection)))


async def test_a_signed_delivery_is_stored_without_its_signature_then_acknowledged(
    hub: httpx.AsyncClient, crm: ExampleSandbox, store: Store
) -> None:
    headers, body = crm.delivery(crm.events[0])
    response = await hub.post(URL, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "stored"}
    [row] = _inbox(store)
    assert (row.connection, row.delivery_id, row.status) == ("crm", crm.events[0]["id"], "pending")
    assert json.loads(row.body) == crm.events[0]
    assert "x-example-signature" not in row.headers
    assert "x-example-event-id" in row.headers
    stored = json.dumps(row.model_dump(mode="json"))
    assert WEBHOOK_SECRET not in stored
    assert headers["X-Example-Signature"] not in stored


async def test_deliveries_are_applied_once_like_pulled_pages_without_moving_the_cursor(
    hub: httpx.AsyncClient,
    crm: ExampleSandbox,
    store: Store,
    hub_config: HubConfig,
    plugins: Plugins,
) -> None:
    for event in crm.events:  # every event twice, as a vendor that retries sends them
        for _ in range(2):
            headers, body = crm.delivery(event)
            assert (await hub.post(URL, content=body, headers=headers)).status_code == 200
    assert len(_inbox(store)) == 10
    assert await drain_inbox(store, hub_config, plugins, "crm") == 10
    assert await drain_inbox(store, hub_config, plugins, "crm") == 0

    assert sorted(link.external_id for link in _links(store, "crm")) == sorted(
        event["data"]["id"] for event in crm.events
    )
    with store.session() as session:
        assert session.get(SyncState, ("crm", "customers")) is None
        queued = session.exec(select(Outbox.hub_id).where(Outbox.connection == "mail")).all()
        [run] = session.exec(select(Run).where(Run.stream == "webhooks")).all()
    assert len(queued) == 10, "webhook changes reach the subscribers like pulled ones"
    assert (run.status, run.counts["read"], run.counts["created"]) == ("succeeded", 10, 10)
    assert {row.status for row in _inbox(store)} == {"done"}


async def test_a_forged_delivery_is_refused_and_logged_without_its_payload(
    hub: httpx.AsyncClient, crm: ExampleSandbox, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    headers, body = crm.delivery(crm.events[0])
    forged = body.replace(b"-Edited", b"-Forged")
    with caplog.at_level(logging.WARNING):
        response = await hub.post(URL, content=forged, headers=headers)
    assert response.status_code == 401
    assert _inbox(store) == []
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert "crm" in record.getMessage()
    assert "Forged" not in caplog.text
    assert crm.events[0]["data"]["email"] not in caplog.text
    unsigned = {k: v for k, v in headers.items() if k != "X-Example-Signature"}
    assert (await hub.post(URL, content=body, headers=unsigned)).status_code == 401


async def test_an_unknown_connection_is_404_and_a_connector_without_webhooks_401(
    hub: httpx.AsyncClient, crm: ExampleSandbox
) -> None:
    headers, body = crm.delivery(crm.events[0])
    assert (await hub.post("/webhooks/nope", content=body, headers=headers)).status_code == 404
    other = ExampleSandbox()
    other.webhook_secret = "another secret"
    headers, body = other.signed(body, event_id="evt_x"), body
    assert (await hub.post(URL, content=body, headers=headers)).status_code == 401


async def test_the_challenge_get_is_answered_at_once_and_stores_nothing(
    hub: httpx.AsyncClient, store: Store
) -> None:
    challenge = "a1b2c3"
    headers = {"X-Example-Signature": sign(WEBHOOK_SECRET, challenge.encode())}
    response = await hub.get(f"{URL}/setup", params={"challenge": challenge}, headers=headers)
    assert (response.status_code, response.text) == (200, challenge)
    assert (await hub.get(URL, params={"challenge": challenge})).status_code == 401
    assert _inbox(store) == []


async def test_health_and_readiness(hub: httpx.AsyncClient) -> None:
    assert (await hub.get("/healthz")).text == "ok"
    ready = await hub.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready")


async def test_a_signed_delivery_no_mapping_can_read_is_kept_failed_and_the_drain_goes_on(
    hub: httpx.AsyncClient,
    crm: ExampleSandbox,
    store: Store,
    hub_config: HubConfig,
    plugins: Plugins,
) -> None:
    bad = b'{"id": "evt_bad", "type": "contact.merged", "data": {}}'
    await hub.post(URL, content=bad, headers=crm.signed(bad, event_id="evt_bad"))
    headers, body = crm.delivery(crm.events[0])
    await hub.post(URL, content=body, headers=headers)
    assert await drain_inbox(store, hub_config, plugins, "crm") == 2
    statuses = {row.delivery_id: (row.status, row.error) for row in _inbox(store)}
    assert statuses[crm.events[0]["id"]] == ("done", None)
    status, error = statuses["evt_bad"]
    assert status == "failed" and error is not None and "contact.merged" in error


async def _storm(
    hub: httpx.AsyncClient, crm: ExampleSandbox, count: int
) -> tuple[set[str], int, int]:
    """``count`` deliveries in a random order: a third repeats, a tenth is forged."""
    rng = random.Random(7)
    ids = list(crm.contacts)
    while len(crm.events) < count:
        crm.touch("customers", rng.choice(ids))
    calls: list[tuple[dict[str, str], bytes, bool]] = []
    for event in crm.events[:count]:
        headers, body = crm.delivery(event)
        calls.append((headers, body, True))
        if rng.random() < 0.33:
            calls.append((headers, body, True))
        if rng.random() < 0.1:
            calls.append((headers, body.replace(b"-Edited", b"-Forged"), False))
    rng.shuffle(calls)
    refused = 0
    for headers, body, genuine in calls:
        response = await hub.post(URL, content=body, headers=headers)
        assert response.status_code == (200 if genuine else 401)
        refused += not genuine
    return {event["id"] for event in crm.events[:count]}, len(calls), refused


async def _genuine_processed_once(
    hub: httpx.AsyncClient,
    crm: ExampleSandbox,
    store: Store,
    hub_config: HubConfig,
    plugins: Plugins,
    count: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.service.webhooks")
    genuine, sent, refused = await _storm(hub, crm, count)
    assert sent > count and refused > 0
    refusals = [r.getMessage() for r in caplog.records if "refused (401)" in r.getMessage()]
    assert len(refusals) == refused, "every forged delivery is logged"
    emails = {str(contact["email"]) for contact in crm.contacts.values()}
    logged = caplog.text
    assert "Forged" not in logged and not any(email in logged for email in emails), (
        "and none with its payload"
    )
    while await drain_inbox(store, hub_config, plugins, "crm"):
        pass
    rows = _inbox(store)
    assert sorted(row.delivery_id for row in rows) == sorted(genuine)
    assert {row.status for row in rows} == {"done"}
    with store.session() as session:
        read = sum(run.counts["read"] for run in session.exec(select(Run)))
    assert read == count, "each genuine delivery is applied once, duplicates never"
    assert not any(b"Forged" in row.body for row in rows)


async def test_200_deliveries_with_duplicates_and_forgeries(
    hub: httpx.AsyncClient,
    crm: ExampleSandbox,
    store: Store,
    hub_config: HubConfig,
    plugins: Plugins,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _genuine_processed_once(hub, crm, store, hub_config, plugins, 200, caplog)


@pytest.mark.slow
async def test_1000_deliveries_with_duplicates_and_forgeries(
    hub: httpx.AsyncClient,
    crm: ExampleSandbox,
    store: Store,
    hub_config: HubConfig,
    plugins: Plugins,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _genuine_processed_once(hub, crm, store, hub_config, plugins, 1000, caplog)
