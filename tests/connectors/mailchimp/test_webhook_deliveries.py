"""The sandbox's webhook deliveries reach crmhub's webhook endpoint and change the hub.

The audience registers crmhub's URL (with the secret token in its path) through
the API, validates it with a GET, and POSTs form-encoded events as Mailchimp
does; the hub stores them in its inbox and applies them like pulled pages.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import select

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, LIST_ID, MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import build_connector
from hub.plugins import load_plugins
from hub.service.inbox import drain_inbox
from hub.service.webhooks import webhook_app
from hub.store.database import Store
from hub.store.tables import CustomerRow, WebhookInbox
from hub.testing.sandbox import BASE_URL

pytestmark = pytest.mark.anyio
SECRET = "s3cret-path-token"


async def test_an_unsubscribe_in_mailchimp_arrives_by_webhook_and_api_changes_do_not(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = MailchimpSandbox()
    sandbox.add_member("ann@example.com", "subscribed", {"FNAME": "Ann"})
    sandbox.add_member("bob@example.com", "subscribed", {"FNAME": "Bob"})
    monkeypatch.setenv("MAILCHIMP_SANDBOX_KEY", API_KEY)
    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    path = tmp_path / "crmhub.yaml"
    settings = {**sandbox.config_for(BASE_URL), "webhook_secret": "${HOOK_TOKEN}"}
    path.write_text(
        yaml.safe_dump(
            {
                "connections": {
                    "newsletter": {
                        "connector": "mailchimp",
                        "direction": "pull",
                        "streams": ["customers"],
                        "config": settings,
                    }
                }
            }
        )
    )
    plugins = load_plugins()
    config = load_config(path, plugins)
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=f"{BASE_URL}/3.0/", auth=("any", API_KEY)
    ) as api:
        hook = await api.post(
            f"lists/{LIST_ID}/webhooks",
            json={"url": f"http://hub.test/webhooks/newsletter/{SECRET}", "events": {}},
        )
        assert hook.status_code == 200, hook.text
        assert hook.json()["sources"] == {"user": True, "admin": True, "api": False}
        # A change made through the API (as crmhub's own pushes are) is not delivered.
        changed = await api.patch(
            f"lists/{LIST_ID}/members/{subscriber_hash('bob@example.com')}",
            json={"merge_fields": {"FNAME": "Robert"}},
        )
        assert changed.status_code == 200
    sandbox.set_status("ann@example.com", "unsubscribed", by="user")

    connector = build_connector(config, plugins, "newsletter")
    hub = httpx.ASGITransport(app=webhook_app(store, {"newsletter": connector}))
    assert await sandbox.webhooks.deliver(hub) == [200]
    assert [(method, status) for method, _, status in sandbox.webhooks.sent] == [
        ("GET", 200),
        ("POST", 200),
    ], "the URL is validated with a GET before the first delivery"
    assert await sandbox.webhooks.deliver(hub) == [], "delivered once"
    await connector.aclose()

    with store.session() as session:
        [row] = session.exec(select(WebhookInbox)).all()
    assert row.body.startswith(b"type=unsubscribe&fired_at=")
    assert b"data%5Bemail%5D=ann%40example.com" in row.body
    assert await drain_inbox(store, config, plugins, "newsletter") == 1
    with store.session() as session:
        [ann] = session.exec(select(CustomerRow)).all()
    assert ann.primary_email == "ann@example.com"
    assert ann.data["consents"]["email"]["status"] == "unsubscribed"
    assert ann.data["consents"]["email"]["recorded_at"], "fired_at dates the opt-out"


async def test_a_delivery_to_a_wrong_token_is_refused_and_kept_for_a_retry(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILCHIMP_SANDBOX_KEY", API_KEY)
    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    sandbox = MailchimpSandbox()
    sandbox.add_member("ann@example.com", "subscribed")
    sandbox.webhooks.register({"url": "http://hub.test/webhooks/newsletter/wrong"})
    sandbox.set_status("ann@example.com", "unsubscribed", by="user")
    plugins = load_plugins()
    path = tmp_path / "crmhub.yaml"
    settings = {**sandbox.config_for(BASE_URL), "webhook_secret": "${HOOK_TOKEN}"}
    path.write_text(
        yaml.safe_dump(
            {"connections": {"newsletter": {"connector": "mailchimp", "config": settings}}}
        )
    )
    connector = build_connector(load_config(path, plugins), plugins, "newsletter")
    hub = httpx.ASGITransport(app=webhook_app(store, {"newsletter": connector}))
    assert await sandbox.webhooks.deliver(hub) == []  # the validation GET already fails
    assert sandbox.webhooks.sent[0][2] == 401
    [hook] = sandbox.webhooks.hooks.values()
    assert len(hook.pending) == 1
    await connector.aclose()
