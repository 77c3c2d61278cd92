"""An e-mail opt-out recorded in any CRM reaches the shop and the e-mail tool.

A CRM (SugarCRM, vTiger or openCRX), Shopify and Mailchimp sandboxes are served
on loopback and synced by the real runner from a config file, as `crmhub sync`
does. The person is subscribed in Shopify and in Mailchimp; the call centre
flags her address as opted out in the CRM, in its own way. One pass later both
marketing systems hold her as unsubscribed, and a further pass writes nothing
back over it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.mailchimp.sandbox import MailchimpSandbox
from connectors.opencrx.mapping import EMAIL
from connectors.opencrx.sandbox import OpenCrxSandbox
from connectors.shopify.sandbox import ShopifySandbox
from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.vtiger.sandbox import VtigerSandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.testing.serve import running

pytestmark = pytest.mark.anyio
SEED = 7


CRMS: dict[str, type[Any]] = {
    "sugarcrm": SugarSandbox,
    "vtiger": VtigerSandbox,
    "opencrx": OpenCrxSandbox,
}


@pytest.fixture(params=sorted(CRMS))
def crm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def systems(crm: str) -> Iterator[dict[str, tuple[Any, str]]]:
    shop, audience = ShopifySandbox(bulk_seconds=0.1), MailchimpSandbox(batch_seconds=0.1)
    shop.populate(12, seed=SEED, orders=0)
    audience.populate(12, seed=SEED)
    with ExitStack() as stack:
        yield {
            name: (sandbox, stack.enter_context(running(sandbox)))
            for name, sandbox in (("shop", shop), ("newsletter", audience), ("crm", CRMS[crm]()))
        }


def _opt_out_in(crm: str, sandbox: Any, email: str) -> None:
    """The person, her address opted out the way each CRM keeps it."""
    if crm == "sugarcrm":
        address = {"email_address": email, "primary_address": True, "opt_out": True}
        sandbox.add("customers", {"last_name": "Opted-Out", "email": [address]})
    elif crm == "vtiger":
        sandbox.add("customers", {"lastname": "Opted-Out", "email": email, "emailoptout": "1"})
    else:
        address = {"@type": EMAIL, "emailAddress": email, "isMain": True, "usage": [400]}
        sandbox.add_contact({"lastName": "Opted-Out", "doNotEMail": True}, [address])


def _subscribed_in_both(shop: ShopifySandbox, audience: MailchimpSandbox) -> str:
    members = {m["email_address"]: m["status"] for m in audience.records("customers").values()}
    return next(
        c["email"]
        for c in shop.records("customers").values()
        if c["emailMarketingConsent"]["marketingState"] == "SUBSCRIBED"
        and members.get(c["email"]) == "subscribed"
    )


async def test_an_opt_out_in_a_crm_unsubscribes_in_shopify_and_mailchimp(
    crm: str,
    systems: dict[str, tuple[Any, str]],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (shop, _), (audience, _) = systems["shop"], systems["newsletter"]
    email = _subscribed_in_both(shop, audience)
    _opt_out_in(crm, systems["crm"][0], email)
    connections: dict[str, Any] = {}
    for name, (sandbox, url) in systems.items():
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        connector = {"shop": "shopify", "newsletter": "mailchimp", "crm": crm}[name]
        connections[name] = {
            "connector": connector,
            "direction": "pull" if name == "crm" else "both",
            "streams": ["customers"],
            "config": sandbox.config_for(url),
        }
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connections": connections}))
    plugins = load_plugins()
    config = load_config(path, plugins)

    await sync(store, config, plugins)
    await sync(store, config, plugins)  # a second pass: nothing re-subscribes her

    [customer] = [c for c in shop.records("customers").values() if c["email"] == email]
    [member] = [m for m in audience.records("customers").values() if m["email_address"] == email]
    assert customer["emailMarketingConsent"]["marketingState"] == "UNSUBSCRIBED"
    assert member["status"] == "unsubscribed"
