"""The example sandbox keeps the example API's contract: auth, errors, limits, paging, writes.

The example CRM is made up, so its contract is the list in
connectors/example/sandbox.py; these tests hold the emulator to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.example.sandbox import TOKEN, ExampleSandbox
from connectors.example.webhooks import sign
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CONTACTS = "/api/v1/contacts"


@pytest.fixture
def sandbox() -> ExampleSandbox:
    sandbox = ExampleSandbox(clock=VirtualClock())
    sandbox.populate(120, seed=5)
    return sandbox


@pytest.fixture
async def api(sandbox: ExampleSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client(headers=AUTH) as client:
        yield client


def _error(response: httpx.Response) -> Any:
    return response.json()["error"]["code"]


async def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    def people(seed: int) -> list[dict[str, Any]]:
        sandbox = ExampleSandbox(clock=VirtualClock())
        sandbox.populate(10, seed=seed)
        return list(sandbox.records("customers").values())

    assert people(3) == people(3)
    assert [p["email"] for p in people(3)] != [p["email"] for p in people(4)]
    assert {p["address"]["country"] for p in people(3)} >= {"ES", "DE", "FR", "IT", "GB"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "invalid_token"), ({"Authorization": "Bearer wrong"}, "invalid_token")],
)
async def test_requests_without_a_valid_token_are_refused(
    sandbox: ExampleSandbox, headers: dict[str, str], code: str
) -> None:
    async with sandbox.client(headers=headers) as client:
        response = await client.get(CONTACTS)
    assert response.status_code == 401
    assert _error(response) == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="example"')


async def test_unknown_paths_get_the_vendor_error_body(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_the_rate_limit_is_reported_and_enforced_per_window(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    first = await api.get(CONTACTS, params={"limit": 1})
    assert first.headers["X-RateLimit-Limit"] == "100"
    assert first.headers["X-RateLimit-Remaining"] == "99"
    assert first.headers["X-RateLimit-Reset"] == "10"
    for _ in range(99):
        await api.get(CONTACTS, params={"limit": 1})
    refused = await api.get(CONTACTS, params={"limit": 1})
    assert refused.status_code == 429
    assert _error(refused) == "rate_limited"
    assert refused.headers["Retry-After"] == "10"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert isinstance(sandbox.clock, VirtualClock)
    await sandbox.clock.sleep(10)
    assert (await api.get(CONTACTS, params={"limit": 1})).status_code == 200


async def test_pages_run_in_change_order_and_a_token_carries_the_filter(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    since = sorted(c["updated_at"] for c in sandbox.records("customers").values())[30]
    first = (await api.get(CONTACTS, params={"updated_since": since})).json()
    assert len(first["data"]) == 50  # the default limit
    assert first["data"][0]["updated_at"] == since  # inclusive
    rest = (await api.get(CONTACTS, params={"page_token": first["next_page_token"]})).json()
    seen = first["data"] + rest["data"]
    assert rest["next_page_token"] is None
    assert len(seen) == 120 - 30
    assert [c["updated_at"] for c in seen] == sorted(c["updated_at"] for c in seen)
    assert all(TIMESTAMP.match(c["updated_at"]) and TIMESTAMP.match(c["created_at"]) for c in seen)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "101"}, "invalid_parameter"),
        ({"limit": "ten"}, "invalid_parameter"),
        ({"updated_since": "2024-01-01T00:00:00"}, "invalid_parameter"),
        ({"updated_since": "yesterday"}, "invalid_parameter"),
        ({"page_token": "not-a-token"}, "invalid_page_token"),
    ],
)
async def test_bad_parameters_are_400_with_a_code(
    api: httpx.AsyncClient, params: dict[str, str], code: str
) -> None:
    response = await api.get(CONTACTS, params=params)
    assert (response.status_code, _error(response)) == (400, code)


async def test_post_upserts_by_email_and_stamps_later_each_time(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    body = {"email": "New.Person@example.com", "first_name": "New"}
    created = await api.post(CONTACTS, json=body)
    again = await api.post(CONTACTS, json={**body, "email": "new.person@example.com"})
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["id"] == again.json()["id"]
    assert again.json()["updated_at"] > created.json()["updated_at"]  # the clock stood still
    assert len(sandbox.records("customers")) == 121


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"first_name": "No mail"}, "email is required"),
        ({"email": "x@example.com", "nickname": "X"}, "Unknown field 'nickname'"),
        (["not", "an", "object"], "contact object"),
    ],
)
async def test_invalid_bodies_are_422(api: httpx.AsyncClient, body: Any, message: str) -> None:
    response = await api.post(CONTACTS, json=body)
    assert (response.status_code, _error(response)) == (422, "validation_failed")
    assert message in response.json()["error"]["message"]


async def test_put_replaces_and_refuses_unknown_ids_and_taken_emails(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    first, second = list(sandbox.records("customers").values())[:2]
    replaced = await api.put(f"{CONTACTS}/{first['id']}", json={"email": first["email"]})
    assert replaced.status_code == 200
    assert replaced.json()["first_name"] is None and replaced.json()["tags"] == []
    missing = await api.put(f"{CONTACTS}/ct_999999", json={"email": "a@example.com"})
    taken = await api.put(f"{CONTACTS}/{first['id']}", json={"email": second["email"]})
    assert (missing.status_code, _error(missing)) == (404, "not_found")
    assert (taken.status_code, _error(taken)) == (409, "email_taken")


async def test_delete_is_204_also_when_already_gone(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    target = next(iter(sandbox.records("customers")))
    statuses = [(await api.delete(f"{CONTACTS}/{target}")).status_code for _ in range(2)]
    assert statuses == [204, 204]
    assert (await api.get(f"{CONTACTS}/{target}")).status_code == 404


async def test_a_contact_edited_after_a_listing_moves_to_the_end_of_the_next(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    first = (await api.get(CONTACTS, params={"limit": 100})).json()["data"]
    edited = first[0]
    body = {key: edited[key] for key in ("email", "first_name", "phone", "tags")}
    assert (await api.put(f"{CONTACTS}/{edited['id']}", json=body)).status_code == 200
    sandbox.touch("customers", first[1]["id"])

    token: str | None = None
    listed: list[str] = []
    while True:
        params: dict[str, str | int] = {"limit": 50} | ({"page_token": token} if token else {})
        page = (await api.get(CONTACTS, params=params)).json()
        listed += [contact["id"] for contact in page["data"]]
        if (token := page["next_page_token"]) is None:
            break
    assert len(listed) == len(set(listed)) == 120
    assert listed[-2:] == [edited["id"], first[1]["id"]]


async def test_writes_become_signed_events_resent_until_acknowledged(
    sandbox: ExampleSandbox, api: httpx.AsyncClient
) -> None:
    received: list[tuple[str, str]] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        assert request.headers["X-Example-Signature"] == sign(sandbox.webhook_secret, body)
        received.append((request.headers["X-Example-Event-Id"], json.loads(body)["type"]))
        return Response(status_code=500 if len(received) == 1 else 200)

    contact_id = next(iter(sandbox.contacts))
    await api.put(f"{CONTACTS}/{contact_id}", json={"email": "new@example.com"})
    await api.delete(f"{CONTACTS}/{contact_id}")
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        assert await sandbox.deliver(client, "http://hub.test/hook") == 1
        assert await sandbox.deliver(client, "http://hub.test/hook") == 1
    first, second = received[0][0], received[1][0]
    assert [kind for _, kind in received] == [
        "contact.updated",
        "contact.deleted",
        "contact.updated",
    ]
    assert received[2][0] == first != second, "a refused event is resent with its id"
    assert sandbox.events == []
