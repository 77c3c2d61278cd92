"""Mailchimp's webhooks at the service's endpoint: the validation GET, the path token, resends.

Mailchimp signs nothing: the secret is the last part of the URL it was given
(/webhooks/CONNECTION/TOKEN), and it checks the URL with a GET before it sends
anything. The endpoint must answer that GET, refuse a wrong token with 401,
store a genuine event once, and keep the token out of the store.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from sqlmodel import select

from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import build_connector
from hub.plugins import load_plugins
from hub.service.webhooks import webhook_app
from hub.store.database import Store
from hub.store.tables import WebhookInbox

pytestmark = pytest.mark.anyio

TOKEN = "mc-path-token-5d1e"
EVENT = {
    "type": "unsubscribe",
    "fired_at": "2024-03-26 21:40:57",
    "data[action]": "unsub",
    "data[reason]": "manual",
    "data[id]": "8a25ff1d98",
    "data[list_id]": "16d6ec4ffc",
    "data[email]": "ann@example.com",
    "data[email_type]": "html",
}


async def test_the_endpoint_answers_the_validation_get_checks_the_token_and_stores_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = MailchimpSandbox()
    for key, value in {**sandbox.environment(), "MC_WEBHOOK_TOKEN": TOKEN}.items():
        monkeypatch.setenv(key, value)
    settings = {
        **sandbox.config_for("http://mailchimp.test"),
        "webhook_secret": "${MC_WEBHOOK_TOKEN}",
    }
    path = tmp_path / "crmhub.yaml"
    news = {"connector": "mailchimp", "direction": "both", "config": settings}
    path.write_text(yaml.safe_dump({"connections": {"news": news}}))
    plugins = load_plugins()
    config = load_config(path, plugins)
    app = webhook_app(store, {"news": build_connector(config, plugins, "news")})
    body = urlencode(EVENT).encode()
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        assert (await client.get(f"/webhooks/news/{TOKEN}")).status_code == 200
        assert (await client.get("/webhooks/news/guess")).status_code == 401
        assert (
            await client.post("/webhooks/news/guess", content=body, headers=form)
        ).status_code == 401
        first = await client.post(f"/webhooks/news/{TOKEN}", content=body, headers=form)
        again = await client.post(f"/webhooks/news/{TOKEN}", content=body, headers=form)
    assert (first.status_code, first.json()) == (200, {"status": "stored"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    with store.session() as session:
        [row] = session.exec(select(WebhookInbox))
    assert row.connection == "news" and b"unsubscribe" in row.body
    assert TOKEN not in repr((row.headers, row.query, row.body))
