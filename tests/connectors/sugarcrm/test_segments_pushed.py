"""Hub segments pushed to the Sugar sandbox as Target Lists, through the real engine.

Contacts are pulled from Sugar first, so the hub links them; the segments
plugin decides who is in a segment and queues the changes; the push relates
the linked contacts to the list. What the sandbox holds, what went to dead
letters and which requests reached Sugar is what is checked.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.sugarcrm.sandbox_lists import TARGET_LISTS
from hub.config import HubConfig
from hub.engine.context import StreamContext
from hub.engine.outbox import enqueue
from hub.engine.push import push_stream
from hub.http import VirtualClock
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow, DeadLetter, Link
from hub.testing.harness import Harness
from tests.connectors.sugarcrm.test_kit import sugar_connector
from tests.plugins.seed import customer, day, order

pytestmark = pytest.mark.anyio
AS_OF = day("2026-12-01")
RECORDED = {"status": "subscribed", "recorded_at": "2025-01-01T00:00:00+00:00"}


def _config() -> HubConfig:
    return HubConfig.model_validate(
        {
            "connections": {
                "crm": {
                    "connector": "sugarcrm",
                    "direction": "both",
                    "streams": ["customers", "segment_members"],
                    "config": {
                        "base_url": "http://sugar.test",
                        "username": "hub",
                        "password": "x",
                    },
                }
            },
            "segments": {
                "win_back": {
                    "channel": "email",
                    "push_to": ["crm"],
                    "rules": [{"field": "last_order_at", "older_than": "730d"}],
                }
            },
        },
        context={"plugins": load_plugins()},
    )


def _contact(sandbox: SugarSandbox, email: str) -> str:
    address = {"email_address": email, "primary_address": True, "opt_out": False}
    return str(sandbox.add("customers", {"last_name": email[:3], "email": [address]})["id"])


def _hub_id(store: Store, contact: str) -> str:
    with store.session() as session:
        query = select(Link).where(Link.object == "customer", Link.external_id == contact)
        return session.exec(query).one().hub_id


def _record_consent(store: Store, hub_id: str) -> None:
    """The person opted in through a form the hub recorded (Sugar keeps no time of it)."""
    with store.session() as session:
        row = session.get_one(CustomerRow, hub_id)
        row.data = {**row.data, "consents": {"email": RECORDED}}
        session.add(row)
        session.commit()


async def _push(store: Store, sandbox: SugarSandbox) -> dict[str, Any]:
    sugar = sugar_connector(sandbox, connection="crm")
    ctx = StreamContext(store, sugar, "segment_members", run_id=1)
    await push_stream(ctx)
    await sugar.aclose()
    return dict(ctx.counts)


def _list_calls(sandbox: SugarSandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests if TARGET_LISTS in r.path]


async def test_a_hub_segment_becomes_a_target_list_and_follows_joins_and_leaves(
    store: Store,
) -> None:
    sandbox = SugarSandbox(clock=VirtualClock())
    contacts = {name: _contact(sandbox, f"{name}@example.com") for name in ("ann", "bob", "dee")}
    harness = Harness(store, lambda: sugar_connector(sandbox, connection="crm"))
    assert (await harness.pull("customers")).error is None
    hub = {name: _hub_id(store, contact) for name, contact in contacts.items()}
    for name in ("ann", "bob"):
        _record_consent(store, hub[name])
    customer(store, "cyd", emails=["cyd@example.com"], consents={"email": RECORDED})
    for hub_id in [*hub.values(), "cyd"]:
        order(store, hub_id, "2023-05-01", "90")
    config, plugins = _config(), load_plugins()
    plugins.refresh(store, config, AS_OF)

    first = await _push(store, sandbox)
    assert (first["pushed"], first["rejected"]) == (2, 1)
    assert sandbox.relations.contacts_on("win_back") == {contacts["ann"], contacts["bob"]}
    (target,) = sandbox.modules[TARGET_LISTS].values()
    assert (target["name"], target["list_type"]) == ("win_back", "default")
    with store.session() as session:
        (letter,) = session.exec(select(DeadLetter).where(DeadLetter.stream == "segment_members"))
    assert letter.connection == "crm" and "no Sugar contact" in letter.error
    # Dee's subscription was never recorded: she is not added, and nothing is sent for her.

    calls = _list_calls(sandbox)
    again = await _push(store, sandbox)
    assert again.get("pushed", 0) == 0 and again.get("rejected", 0) == 0
    assert _list_calls(sandbox) == calls, "nothing changed: nothing written, nothing looked up"

    order(store, hub["ann"], "2026-11-28", "40")  # Ann came back: she leaves the segment
    plugins.refresh(store, config, AS_OF)
    assert (await _push(store, sandbox))["pushed"] == 1
    assert sandbox.relations.contacts_on("win_back") == {contacts["bob"]}
    assert len(sandbox.modules[TARGET_LISTS]) == 1
    assert _list_calls(sandbox)[len(calls) :] == [
        ("POST", "/rest/v11/ProspectLists/filter"),
        ("DELETE", f"/rest/v11/ProspectLists/{target['id']}/link/contacts/{contacts['ann']}"),
    ]


async def test_a_person_from_elsewhere_joins_once_the_customers_push_made_their_contact(
    store: Store,
) -> None:
    """With ``customers`` pushed before ``segment_members`` (as listed), nobody is refused."""
    sandbox = SugarSandbox(clock=VirtualClock())
    customer(store, "cyd", emails=["cyd@example.com"], consents={"email": RECORDED})
    order(store, "cyd", "2023-05-01", "90")
    with store.session() as session:
        enqueue(session, stream="customers", hub_ids=["cyd"], targets=["crm"], origin="shop")
        session.commit()
    load_plugins().refresh(store, _config(), AS_OF)

    sugar = sugar_connector(sandbox, connection="crm")
    await push_stream(StreamContext(store, sugar, "customers", run_id=1))
    await sugar.aclose()
    (contact,) = sandbox.modules["Contacts"]
    assert (await _push(store, sandbox))["pushed"] == 1
    assert sandbox.relations.contacts_on("win_back") == {contact}
