"""A lead in SugarCRM and a lead in vTiger with the same e-mail are one hub customer.

Both sandboxes are served on loopback and synced by the real runner from a
config file, as `crmhub sync` does, reading contacts, leads and accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlmodel import select

from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.vtiger.sandbox import VtigerSandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.http import VirtualClock
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CustomerRow, Identifier, Link
from hub.testing.serve import running

pytestmark = pytest.mark.anyio
EMAIL = "lucia.moreno@example.es"


@pytest.fixture
def urls() -> Iterator[tuple[SugarSandbox, VtigerSandbox, dict[str, str]]]:
    sugar, vtiger = SugarSandbox(clock=VirtualClock()), VtigerSandbox()  # Sugar's lead: in 2023
    with ExitStack() as stack:
        yield (
            sugar,
            vtiger,
            {
                "sugar": stack.enter_context(running(sugar)),
                "vtiger": stack.enter_context(running(vtiger)),
            },
        )


async def test_a_sugar_lead_and_a_vtiger_lead_with_one_email_are_one_customer(
    urls: tuple[SugarSandbox, VtigerSandbox, dict[str, str]],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sugar, vtiger, where = urls
    sugar_lead = sugar.add(
        "leads",
        {
            "first_name": "Lucía",
            "last_name": "Moreno",
            "email": [{"email_address": "Lucia.Moreno@example.es", "primary_address": True}],
            "lead_source": "Web Site",
            "account_name": "Moreno Textil",
            "status": "New",
        },
    )
    vtiger_lead = vtiger.add(
        "leads",
        {
            "firstname": "Lucía",
            "lastname": "Moreno",
            "email": EMAIL,
            "mobile": "+34 600 123 456",
            "leadsource": "Trade Show",
        },
    )
    for sandbox in (sugar, vtiger):
        for name, value in sandbox.environment().items():
            monkeypatch.setenv(name, value)
    (tmp_path / "crmhub.yaml").write_text(
        "connections:\n"
        "  sugar:\n    connector: sugarcrm\n    direction: both\n"
        "    streams: [customers, leads, accounts]\n"
        f"    config: {{base_url: '{where['sugar']}', username: hub, "
        "password: '${SUGARCRM_SANDBOX_PASSWORD}'}\n"
        "  vtiger:\n    connector: vtiger\n    direction: both\n"
        "    streams: [customers, leads, accounts]\n"
        f"    config: {{base_url: '{where['vtiger']}', username: admin, "
        "access_key: '${VTIGER_ACCESS_KEY}'}\n"
    )
    plugins = load_plugins()
    runs = await sync(store, load_config(tmp_path / "crmhub.yaml", plugins), plugins)

    assert all(r.status == "succeeded" for r in runs), [r.error for r in runs]
    with store.session() as session:
        customers = session.exec(select(CustomerRow)).all()
        owner = session.exec(select(Identifier).where(Identifier.value == EMAIL)).one()
        links = {
            (link.connection, link.external_id): link.hub_id for link in session.exec(select(Link))
        }
    assert len(customers) == 1
    [lucia] = customers
    assert owner.hub_id == lucia.hub_id
    assert (
        links[("sugar", sugar_lead["id"])] == links[("vtiger", vtiger_lead["id"])] == lucia.hub_id
    )
    assert lucia.data["emails"] == [EMAIL]
    assert lucia.data["phones"] == ["+34600123456"]  # vTiger's phone joins Sugar's lead
    assert lucia.data["attributes"] == {"company": "Moreno Textil", "lifecycle": "lead"}
    # the earliest acquisition is kept: Sugar's lead was entered years before vTiger's
    assert lucia.data["acquisition"]["source"] == "sugar"
    assert lucia.data["acquisition"]["channel"] == "web_site"
