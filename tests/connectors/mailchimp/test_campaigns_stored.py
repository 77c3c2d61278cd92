"""Campaigns with their report figures and each member's opens and clicks, into the store.

Pulled from the Mailchimp sandbox by the real runner: a campaign becomes a
Campaign row with the report's figures, an open or click an Interaction of
the customer the member is linked to, and a second pull adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import sync
from hub.plugins import load_plugins
from hub.store.database import Store
from hub.store.tables import CampaignRow, CustomerRow, InteractionRow
from hub.testing.serve import running

pytestmark = pytest.mark.anyio


async def test_campaign_reports_and_member_activity_are_stored_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = MailchimpSandbox()
    sandbox.add_member("ann@example.com", "subscribed", {"FNAME": "Ann"})
    campaign = sandbox.add_campaign("Spring sale", sends=120, opens=48, clicks=9)
    sandbox.record_activity(campaign["id"], "ann@example.com", "open")
    sandbox.record_activity(campaign["id"], "ann@example.com", "click", url="https://shop.test/")
    with running(sandbox) as url:
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        connection = {
            "connector": "mailchimp",
            "direction": "pull",
            "streams": ["customers", "campaigns", "email_activity"],
            "config": sandbox.config_for(url),
        }
        path = tmp_path / "crmhub.yaml"
        path.write_text(yaml.safe_dump({"connections": {"newsletter": connection}}))
        plugins = load_plugins()
        config = load_config(path, plugins)
        first = await sync(store, config, plugins)
        again = await sync(store, config, plugins)
    assert all(r.status == "succeeded" for r in first + again), [r.error for r in first + again]

    with store.session() as session:
        [stored] = session.exec(select(CampaignRow)).all()
        [ann] = session.exec(select(CustomerRow)).all()
        events = session.exec(select(InteractionRow).order_by(InteractionRow.occurred_at)).all()
    assert (stored.name, stored.channel, stored.sends, stored.opens, stored.clicks) == (
        "Spring sale",
        "email",
        120,
        48,
        9,
    )
    assert [(e.subject, e.customer_hub_id, e.campaign_ref) for e in events] == [
        ("open", ann.hub_id, campaign["id"]),
        ("click", ann.hub_id, campaign["id"]),
    ]
    assert events[1].details == {"url": "https://shop.test/"}  # two pulls, each stored once
