"""What the Magento connector does beyond the standard suite: its walk, its cursor, its writes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import SecretStr

from connectors.magento.config import MagentoConfig
from connectors.magento.connector import MagentoConnector
from connectors.magento.criteria import parse
from connectors.magento.sandbox import TOKEN, MagentoSandbox
from hub.connector import Change
from hub.errors import AuthError, ConfigError
from hub.http import VirtualClock
from hub.model import Channel, Consent, ConsentStatus, Customer
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio


def _connector(sandbox: MagentoSandbox, **settings: Any) -> MagentoConnector:
    options: dict[str, Any] = {"page_size": 10, "access_token": SecretStr(TOKEN)} | settings
    config = MagentoConfig(base_url=BASE_URL, **options)
    return MagentoConnector(
        config, connection="shop", transport=sandbox.transport(), clock=sandbox.clock
    )


async def _read(
    connector: MagentoConnector, stream: str = "customers", cursor: str | None = None
) -> tuple[list[str], str]:
    ids: list[str] = []
    async for page in connector.read(stream, cursor):
        ids += [str(record.get("id") or record.get("entity_id")) for record in page.records]
        cursor = page.cursor
    await connector.aclose()
    assert cursor is not None
    return ids, cursor


@pytest.fixture
def sandbox() -> MagentoSandbox:
    sandbox = MagentoSandbox(clock=VirtualClock(), store_codes=("de",))
    sandbox.populate(30, seed=4)
    return sandbox


def _searches(sandbox: MagentoSandbox) -> list[dict[str, str]]:
    return [dict(parse_qsl(r.query)) for r in sandbox.requests if r.path.endswith("/search")]


async def test_the_walk_stops_on_total_count_and_never_asks_past_the_end(
    sandbox: MagentoSandbox,
) -> None:
    ids, _ = await _read(_connector(sandbox))
    assert ids == [str(n) for n in range(1, 31)]
    searches = _searches(sandbox)
    assert len(searches) == 3  # 30 records, 10 a page: the third page holds the 10 left
    assert {s["searchCriteria[currentPage]"] for s in searches} == {"1"}


async def test_each_next_page_starts_after_the_last_record_read(sandbox: MagentoSandbox) -> None:
    await _read(_connector(sandbox))
    second = parse(_searches(sandbox)[1])
    last = sandbox.records("customers")["10"]
    assert [[(f.field, f.condition_type, f.value) for f in g] for g in second.groups] == [
        [("updated_at", "gteq", last["updated_at"])],
        [("updated_at", "gt", last["updated_at"]), ("entity_id", "gt", "10")],
    ]
    assert [(s.field, s.direction) for s in second.sort] == [
        ("updated_at", "ASC"),
        ("entity_id", "ASC"),
    ]


async def test_a_record_changed_during_the_walk_shifts_nothing_out_of_it(
    sandbox: MagentoSandbox,
) -> None:
    """Page numbers would miss the record that slides into a page already read.

    A position does not: every record is read, the changed one twice.
    """
    connector = _connector(sandbox)
    ids: list[str] = []
    async for page in connector.read("customers", None):
        if not ids:
            sandbox.touch("customers", "3")  # moves from page 1 to the end
        ids += [str(record["id"]) for record in page.records]
    await connector.aclose()
    assert sorted(set(ids), key=int) == [str(n) for n in range(1, 31)]
    assert ids.count("3") == 2  # once as it was, once as changed


async def test_a_late_save_inside_the_overlap_is_read_and_the_rest_is_not_read_again(
    sandbox: MagentoSandbox,
) -> None:
    _, cursor = await _read(_connector(sandbox))
    mark = json.loads(cursor)["mark"]
    late = dict(sandbox.customers[5], id=900, email="late@example.com")
    sandbox.customers[900] = late | {"updated_at": mark}  # same second as the mark, saved late
    ids, cursor = await _read(_connector(sandbox), cursor=cursor)
    assert ids == ["900"]
    assert (await _read(_connector(sandbox), cursor=cursor))[0] == []


async def test_the_store_code_goes_in_the_path(sandbox: MagentoSandbox) -> None:
    ids, _ = await _read(_connector(sandbox, store_code="de"), "orders")
    assert ids and all(r.path.startswith("/rest/de/V1/orders") for r in sandbox.requests)


async def test_an_unknown_store_code_is_a_config_error(sandbox: MagentoSandbox) -> None:
    with pytest.raises(ConfigError, match="store_code"):
        await _read(_connector(sandbox, store_code="fr"))


async def test_a_refused_token_stops_with_a_plain_message_and_no_secret(
    sandbox: MagentoSandbox,
) -> None:
    secret = "wrong-token-0123456789"
    with pytest.raises(AuthError) as raised:
        await _read(_connector(sandbox, access_token=SecretStr(secret)))
    message = str(raised.value)
    assert "System > Integrations" in message and "Magento_Customer::customer" in message
    assert secret not in message


def _ana(**update: Any) -> Customer:
    fields: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "García",
        "emails": ["ana@example.es"],
    }
    return Customer(**(fields | update))


async def test_a_write_creates_then_updates_keeping_magentos_own_fields(
    sandbox: MagentoSandbox,
) -> None:
    connector = _connector(sandbox)
    [created] = await connector.write("customers", [Change("h1", _ana())])
    assert created.ok and created.external_id
    customer = sandbox.customers[int(created.external_id)]
    customer.update(group_id=4, taxvat="ES1", dob="1980-01-01")  # set by the shop
    [updated] = await connector.write(
        "customers", [Change("h1", _ana(last_name="Gil"), external_id=created.external_id)]
    )
    await connector.aclose()
    held = sandbox.customers[int(created.external_id)]
    assert updated.ok and held["lastname"] == "Gil"
    assert (held["group_id"], held["taxvat"], held["dob"]) == (4, "ES1", "1980-01-01")
    puts = [r for r in sandbox.requests if r.method == "PUT"]
    assert len(puts) == 1


async def test_an_unchanged_customer_is_not_sent(sandbox: MagentoSandbox) -> None:
    connector = _connector(sandbox)
    [first] = await connector.write("customers", [Change("h1", _ana())])
    again = await connector.write(
        "customers", [Change("h1", _ana(), external_id=first.external_id)]
    )
    await connector.aclose()
    assert again[0].ok and [r.method for r in sandbox.requests].count("PUT") == 0


async def test_a_subscription_change_reaches_is_subscribed(sandbox: MagentoSandbox) -> None:
    customer = sandbox.records("customers")["1"]
    hub = _ana(
        emails=[customer["email"]],
        consents={Channel.EMAIL: Consent(status=ConsentStatus.UNSUBSCRIBED)},
    )
    connector = _connector(sandbox)
    await connector.write("customers", [Change("h1", hub, external_id="1")])
    await connector.aclose()
    assert sandbox.customers[1]["extension_attributes"]["is_subscribed"] is False


async def test_a_stale_link_is_a_clear_dead_letter_or_a_new_customer_by_config(
    sandbox: MagentoSandbox,
) -> None:
    stale = Change("h9", _ana(), external_id="999")
    [parked] = await _connector(sandbox).write("customers", [stale])
    assert parked.error is not None
    assert "999" in parked.error and "h9" in parked.error and "stale" in parked.error
    [recreated] = await _connector(sandbox, stale_link="recreate").write("customers", [stale])
    assert recreated.ok and recreated.external_id != "999"
    assert sandbox.customers[int(recreated.external_id or 0)]["email"] == "ana@example.es"


async def test_a_customer_magento_cannot_create_gets_its_reason(sandbox: MagentoSandbox) -> None:
    results = await _connector(sandbox).write(
        "customers",
        [
            Change("h1", Customer(first_name="No mail")),
            Change("h2", Customer(emails=["nameless@example.com"])),
        ],
    )
    assert [r.error for r in results] == [
        "a Magento customer needs an e-mail address to be created",
        "Magento requires firstname and lastname to create a customer; hub customer h2 has none",
    ]


async def test_orders_are_never_written(sandbox: MagentoSandbox) -> None:
    assert "orders" not in MagentoConnector.writes
    with pytest.raises(Exception, match="read only"):
        await _connector(sandbox).write("orders", [])
