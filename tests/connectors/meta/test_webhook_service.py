"""A lead reaches the hub within one leadgen delivery to the service's webhook endpoint.

Meta's delivery names the lead but carries none of its answers, so applying it
starts the connection's `leads` pull (Connector.pulls_after_webhook): after one
delivery and one inbox drain, the person is in the hub with the lead's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import select

from connectors.meta.sandbox import FORMS, MetaSandbox
from hub.config import HubConfig, load_config
from hub.engine.runner import build_connector
from hub.plugins import Plugins, load_plugins
from hub.service.webhooks import webhook_app
from hub.service.work import apply_webhooks
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link
from hub.testing.serve import running

pytestmark = pytest.mark.anyio


@pytest.fixture
def meta() -> Iterator[tuple[MetaSandbox, str]]:
    sandbox = MetaSandbox()
    with running(sandbox) as url:
        yield sandbox, url


def _config(
    tmp_path: Path, url: str, sandbox: MetaSandbox, monkeypatch: pytest.MonkeyPatch
) -> tuple[HubConfig, Plugins]:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    ads = {"connector": "meta", "direction": "pull", "config": sandbox.config_for(url)}
    path = tmp_path / "crmhub.yaml"
    path.write_text(yaml.safe_dump({"connections": {"ads": ads}}))
    plugins = load_plugins()
    return load_config(path, plugins), plugins


async def test_one_leadgen_delivery_brings_the_lead_into_the_hub(
    meta: tuple[MetaSandbox, str], store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, url = meta
    config, plugins = _config(tmp_path, url, sandbox, monkeypatch)
    body, headers = sandbox.submit_lead(
        FORMS[0], {"email": "Lea.Martin@Example.fr", "full_name": "Léa Martin"}, opted_in=True
    )
    app = webhook_app(store, {"ads": build_connector(config, plugins, "ads")})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        answer = await client.post("/webhooks/ads", content=body, headers=headers)
    assert answer.status_code == 200, answer.text

    assert await apply_webhooks(store, config, plugins, "ads") == 1
    with store.session() as session:
        [customer] = session.exec(select(CustomerRow))
        leads = session.exec(select(Link).where(Link.object == "customer")).all()
    assert customer.primary_email == "lea.martin@example.fr"
    assert [link.connection for link in leads] == ["ads"]
    assert customer.data["acquisition"]["source"] == "meta"
    assert customer.data["consents"]["email"]["status"] == "subscribed"
