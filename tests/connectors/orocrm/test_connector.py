"""What the OroCRM connector does beyond the standard suite: tokens, its walk, errors, writes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import SecretStr

from connectors.orocrm.config import OroConfig
from connectors.orocrm.connector import OroConnector
from connectors.orocrm.sandbox import CLIENT_ID, CLIENT_SECRET, OroSandbox
from connectors.orocrm.sandbox_query import KINDS
from hub.connector import Change
from hub.errors import AuthError, ConfigError
from hub.http import VirtualClock
from hub.model import Address, Customer
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio


def _connector(
    sandbox: OroSandbox, secret: str = CLIENT_SECRET, page_size: int = 10, **settings: Any
) -> OroConnector:
    config = OroConfig(
        base_url=BASE_URL,
        client_id=CLIENT_ID,
        client_secret=SecretStr(secret),
        page_size=page_size,
        **settings,
    )
    return OroConnector(
        config, connection="crm", transport=sandbox.transport(), clock=sandbox.clock
    )


async def _read(connector: OroConnector, cursor: str | None = None) -> tuple[list[str], str | None]:
    ids: list[str] = []
    async for page in connector.read("customers", cursor):
        ids += [str(record["id"]) for record in page.records]
        cursor = page.cursor
    await connector.aclose()
    return ids, cursor


@pytest.fixture
def sandbox() -> OroSandbox:
    sandbox = OroSandbox(clock=VirtualClock())
    sandbox.populate(25, seed=5)
    return sandbox


def _tokens(sandbox: OroSandbox) -> int:
    return sum(1 for r in sandbox.requests if r.path == "/oauth2-token")


async def test_one_token_serves_the_run_and_an_expired_one_is_renewed(sandbox: OroSandbox) -> None:
    connector = _connector(sandbox, page_size=5)
    ids: list[str] = []
    async for page in connector.read("customers", None):
        ids += [str(r["id"]) for r in page.records]
        if len(ids) == 5:
            assert isinstance(sandbox.clock, VirtualClock)
            await sandbox.clock.sleep(3600)  # the token runs out mid-walk
    await connector.aclose()
    assert ids == [str(n) for n in range(1, 26)]
    assert _tokens(sandbox) == 2


async def test_a_refused_client_stops_the_run_without_showing_the_secret(
    sandbox: OroSandbox,
) -> None:
    with pytest.raises(AuthError) as raised:
        await _read(_connector(sandbox, secret="wrong-secret-42"))
    assert "client_id and client_secret" in str(raised.value)
    assert "wrong-secret-42" not in str(raised.value)


async def test_a_second_full_of_changes_is_walked_by_page_number_and_not_looped(
    sandbox: OroSandbox,
) -> None:
    for contact in list(sandbox.contacts.values())[:15]:
        contact["attributes"]["updatedAt"] = "2024-01-01T00:00:00Z"  # an import in one second
    _, cursor = await _read(_connector(sandbox, page_size=5))
    for contact in list(sandbox.contacts.values())[15:]:
        contact["attributes"]["updatedAt"] = "2024-01-01T00:00:00Z"
    sandbox.requests.clear()
    ids, _ = await _read(_connector(sandbox, page_size=5), cursor)
    assert ids == [str(n) for n in range(16, 26)]
    pages = [
        dict(parse_qsl(r.query))["page[number]"]
        for r in sandbox.requests
        if r.path == "/api/contacts"
    ]
    assert pages == ["1", "2", "3", "4", "5", "6"]  # the fifth page was full: one more asks


async def test_a_refused_write_names_the_pointer_and_the_batch_goes_on(sandbox: OroSandbox) -> None:
    contact = sandbox.records("customers")["1"]
    good = Customer(last_name="Nuevo", emails=[contact["attributes"]["primaryEmail"]])
    results = await _connector(sandbox).write(
        "customers",
        [
            Change("h1", Customer(last_name="Li", emails=["li@example.com"]), external_id="999"),
            Change("h2", good, external_id="1"),
            Change("h3", Customer(note="nothing Oro requires")),
        ],
    )
    assert results[0].error is not None
    assert "999" in results[0].error and "h1" in results[0].error and "stale" in results[0].error
    assert results[1].ok and sandbox.contacts[1]["attributes"]["lastName"] == "Nuevo"
    assert results[2].error is not None
    assert "not blank constraint" in results[2].error
    assert "(at /data/attributes/firstName)" in results[2].error


async def test_a_patch_leaves_what_the_hub_does_not_write(sandbox: OroSandbox) -> None:
    sandbox.contacts[1]["attributes"].update(jobTitle="CEO", description="VIP")
    hub: dict[str, Any] = {"first_name": "Ana", "emails": ["ana@example.es"]}
    await _connector(sandbox).write("customers", [Change("h1", Customer(**hub), external_id="1")])
    held = sandbox.contacts[1]["attributes"]
    assert (held["jobTitle"], held["description"], held["firstName"]) == ("CEO", "VIP", "Ana")
    assert held["emails"] == [{"email": "ana@example.es"}]


def _address_writes(sandbox: OroSandbox) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in sandbox.requests
        if r.path.startswith("/api/contactaddresses") and r.method != "GET"
    ]


async def test_addresses_are_written_as_contact_address_resources(sandbox: OroSandbox) -> None:
    connector = _connector(sandbox)
    read = connector.to_canonical("customers", sandbox.records("customers")["1"]).record
    assert isinstance(read, Customer)
    moved = read.addresses[0].model_copy(update={"line1": "Calle Nueva 9", "company": "Acme"})
    second = Address(kind="shipping", line1="Rua 1", city="Porto", country="PT")
    change = read.model_copy(update={"addresses": [moved, second]})
    await connector.write("customers", [Change("h1", change, external_id="1")])
    assert _address_writes(sandbox) == [
        "PATCH /api/contactaddresses/1",
        "POST /api/contactaddresses",
    ]
    again = connector.to_canonical("customers", sandbox.records("customers")["1"]).record
    assert isinstance(again, Customer) and again.addresses == [moved, second]

    sandbox.requests.clear()
    await connector.write("customers", [Change("h1", change, external_id="1")])
    assert _address_writes(sandbox) == []  # the same addresses again: nothing to write

    fewer = change.model_copy(update={"addresses": [second]})
    await connector.write("customers", [Change("h1", fewer, external_id="1")])
    await connector.aclose()
    assert _address_writes(sandbox) == [
        "PATCH /api/contactaddresses/1",
        "DELETE /api/contactaddresses/26",
    ]
    assert [a["attributes"]["city"] for a in sandbox.records("customers")["1"]["included"]
            if a["type"] == "contactaddresses"] == ["Porto"]  # fmt: skip


async def test_a_new_contact_gets_its_addresses_owned_by_it(
    sandbox: OroSandbox,
) -> None:
    home = Address(line1="Rua 1", city="Porto", country="PT")
    results = await _connector(sandbox).write(
        "customers", [Change("h1", Customer(last_name="Sousa", addresses=[home]))]
    )
    contact = sandbox.records("customers")[str(results[0].external_id)]
    [address] = [r for r in contact["included"] if r["type"] == "contactaddresses"]
    assert address["attributes"]["primary"] is True
    assert address["relationships"]["country"]["data"]["id"] == "PT"
    assert address["relationships"]["owner"]["data"]["id"] == results[0].external_id


async def test_the_accounts_stream_reads_the_contacts_of_changed_accounts_with_their_company(
    sandbox: OroSandbox,
) -> None:
    connector = _connector(sandbox)
    ids, cursor = [], None
    async for page in connector.read("accounts", None):
        ids += [str(r["id"]) for r in page.records]
        cursor = page.cursor
    assert ids == [str(n) for n in range(1, 26)]
    sandbox.accounts[7]["attributes"].update(name="Renamed SL", updatedAt="2030-01-01T00:00:00Z")
    changed = [r async for page in connector.read("accounts", cursor) for r in page.records]
    await connector.aclose()
    assert [r["id"] for r in changed] == ["7"]
    customer = connector.to_canonical("accounts", changed[0]).record
    assert isinstance(customer, Customer) and customer.attributes["company"] == "Renamed SL"


async def test_a_stale_link_is_a_dead_letter_or_a_new_contact_by_config(
    sandbox: OroSandbox,
) -> None:
    stale = Change("h9", Customer(last_name="Li", emails=["li@example.com"]), external_id="999")
    [parked] = await _connector(sandbox).write("customers", [stale])
    assert parked.error is not None and "stale_link: recreate" in parked.error
    assert "li@example.com" not in {
        c["attributes"]["primaryEmail"] for c in sandbox.contacts.values()
    }
    [recreated] = await _connector(sandbox, stale_link="recreate").write("customers", [stale])
    assert recreated.ok and recreated.external_id == "26"
    assert sandbox.contacts[26]["attributes"]["primaryEmail"] == "li@example.com"


async def test_a_stream_this_oro_does_not_have_is_a_config_error_naming_the_fix(
    sandbox: OroSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(KINDS, "magentocustomers")  # an Oro without the Magento integration
    with pytest.raises(ConfigError) as raised:
        [page async for page in _connector(sandbox).read("magento_customers", None)]
    assert "Magento integration" in str(raised.value) and "remove the stream" in str(raised.value)
