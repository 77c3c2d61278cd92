"""What the example connector does beyond the standard suite: its cursor and its writes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import TOKEN, ExampleSandbox
from hub.connector import Change
from hub.http import VirtualClock
from hub.model import Customer
from hub.testing.limits import FixedWindow
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio


def _connector(sandbox: ExampleSandbox, page_size: int = 10) -> ExampleConnector:
    config = ExampleConfig(base_url=BASE_URL, api_token=SecretStr(TOKEN), page_size=page_size)
    return ExampleConnector(
        config, connection="crm", transport=sandbox.transport(), clock=sandbox.clock
    )


async def _read(connector: ExampleConnector, cursor: str | None = None) -> tuple[list[str], str]:
    ids: list[str] = []
    async for page in connector.read("customers", cursor):
        ids += [record["id"] for record in page.records]
        cursor = page.cursor
    await connector.aclose()
    assert cursor is not None
    return ids, cursor


@pytest.fixture
def sandbox() -> ExampleSandbox:
    sandbox = ExampleSandbox(clock=VirtualClock())
    sandbox.populate(25, seed=2)
    return sandbox


async def test_next_pages_send_only_the_token_and_the_limit(sandbox: ExampleSandbox) -> None:
    _, cursor = await _read(_connector(sandbox))
    sandbox.requests.clear()
    for contact_id in list(sandbox.contacts)[:12]:
        sandbox.touch("customers", contact_id)
    await _read(_connector(sandbox), cursor)
    first, second = (parse_qs(request.query) for request in sandbox.requests)
    assert first == {"limit": ["10"], "updated_since": [json.loads(cursor)["since"]]}
    assert set(second) == {"limit", "page_token"}


async def test_a_change_in_the_same_millisecond_as_the_mark_is_read_once(
    sandbox: ExampleSandbox,
) -> None:
    ids, cursor = await _read(_connector(sandbox))
    mark = json.loads(cursor)
    twin = {**sandbox.contacts[ids[0]], "id": "ct_900000", "updated_at": mark["since"]}
    sandbox.contacts[twin["id"]] = twin
    assert (await _read(_connector(sandbox), cursor))[0] == ["ct_900000"]


async def test_a_refused_contact_gets_its_error_and_the_batch_goes_on(
    sandbox: ExampleSandbox,
) -> None:
    connector = _connector(sandbox)
    results = await connector.write(
        "customers",
        [
            Change("h1", Customer(first_name="No e-mail")),
            Change("h2", Customer(emails=["ok@example.com"])),
            Change("h3", Customer(emails=["gone@example.com"]), external_id="ct_999999"),
        ],
    )
    await connector.aclose()
    assert [r.ok for r in results] == [False, True, False]
    assert results[0].error is not None and "needs an e-mail" in results[0].error
    assert results[2].error is not None and "No contact with this id" in results[2].error
    assert results[1].written is not None and results[1].written["email"] == "ok@example.com"


async def test_the_client_paces_itself_to_the_rate_limit() -> None:
    sandbox = ExampleSandbox(clock=VirtualClock())
    sandbox.populate(250, seed=2)
    ids, _ = await _read(_connector(sandbox, page_size=1))
    assert len(ids) == 250
    assert sandbox.clock.monotonic() >= 20  # 251 requests at 100 per 10 s: two full waits


async def test_the_client_is_never_refused_at_a_window_edge() -> None:
    sandbox = ExampleSandbox(clock=VirtualClock())
    sandbox.populate(250, seed=2)
    await _read(_connector(sandbox, page_size=1))
    assert isinstance(sandbox.limit, FixedWindow)
    assert sandbox.limit.refused == 0
