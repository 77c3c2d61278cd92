"""Leads and campaigns read through the engine; a webhook lead joins the shop's customer."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from connectors.meta.config import MetaConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.sandbox import ACCOUNT, APP_SECRET, FORMS, TOKEN, MetaSandbox
from hub.connector import WebhookRequest
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.errors import AuthError
from hub.http import VirtualClock
from hub.model import Campaign
from hub.store.database import Store
from hub.store.tables import CustomerRow, Link
from hub.testing.harness import Harness, read_everything
from hub.testing.sandbox import BASE_URL
from hub.testing.serve import running


def _config(**extra: object) -> MetaConfig:
    values: dict[str, object] = {"base_url": BASE_URL, **extra}
    return MetaConfig(
        access_token=SecretStr(TOKEN),
        app_secret=SecretStr(APP_SECRET),
        form_ids=list(FORMS),
        ad_account_id=ACCOUNT,
        consent={"marketing_email": "email"},
        page_size=4,
        **values,  # type: ignore[arg-type]
    )


def _connector(sandbox: MetaSandbox, config: MetaConfig | None = None) -> MetaConnector:
    return MetaConnector(
        config or _config(), connection="ads", transport=sandbox.transport(), clock=sandbox.clock
    )


@pytest.mark.anyio
async def test_a_new_lead_is_the_only_one_the_next_sync_reads(store: Store) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.populate(11)
    harness = Harness(store, lambda: _connector(sandbox))
    first = await harness.pull("leads")
    assert first.error is None and len(first.ids) == 11 and first.pages >= 3
    assert (await harness.pull("leads")).ids == []
    sandbox.submit_lead(FORMS[1], {"email": "new@example.com"})
    sandbox.submit_lead(FORMS[1], {"email": "newer@example.com"})  # the same second
    later = await harness.pull("leads")
    assert len(later.ids) == 2 and later.counts["created"] == 2
    assert (await harness.pull("leads")).ids == []
    assert "access_token" not in (harness.cursor("leads") or "")
    assert all("appsecret_proof=" in seen.query for seen in sandbox.requests)  # and it was right


@pytest.mark.anyio
async def test_a_webhook_lead_joins_the_shop_customer_with_the_same_email(
    store: Store, tmp_path: Path
) -> None:
    shop_file = tmp_path / "shop.jsonl"
    shop_file.write_text(
        json.dumps({"external_id": "c1", "first_name": "Ann", "emails": ["ann@example.com"]}) + "\n"
    )
    shop = FilesConnector(FilesConfig(path=shop_file), connection="shop")
    await pull_stream(StreamContext(store, shop, "customers", run_id=1))

    sandbox = MetaSandbox(clock=VirtualClock())
    meta = _connector(sandbox)
    body, headers = sandbox.submit_lead(
        FORMS[0], {"email": "Ann@Example.com", "phone_number": "+34612345678"}, opted_in=False
    )
    request = WebhookRequest("POST", "", headers, {}, body)
    meta.verify_webhook(request)
    [(_, page)] = meta.webhook_pages(request)
    lead_id = page.records[0]["id"]
    await pull_stream(StreamContext(store, meta, "leads", run_id=2))  # what the delivery starts
    with store.session() as session:
        [customer] = session.exec(select(CustomerRow))
        [link] = session.exec(select(Link).where(Link.connection == "ads"))
    assert link.external_id == lead_id and link.hub_id == customer.hub_id
    assert customer.data["phones"] == ["+34612345678"]
    assert customer.data["acquisition"]["source"] == "meta"
    assert customer.data.get("consents", {}).get("email", {}).get("status") != "subscribed"
    await meta.aclose()


@pytest.mark.anyio
async def test_campaign_and_ad_set_insights_become_campaigns_with_decimal_spend() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.populate(1)
    connector = _connector(sandbox, _config(insights_levels=["campaign", "adset"]))
    found = await read_everything(connector, "campaigns")
    assert sorted(found) == [
        *(f"adset:2384{c}100{a}" for c in (1, 2) for a in (1, 2, 3)),
        "campaign:238412001",
        "campaign:238422001",
    ]
    spring = found["campaign:238412001"].record
    assert isinstance(spring, Campaign)
    assert (spring.spend, spring.currency, spring.channel) == (Decimal("36.75"), "EUR", "ads")
    assert (spring.impressions, spring.clicks, spring.leads) == (6000, 240, 6)
    await connector.aclose()


@pytest.mark.anyio
async def test_a_wrong_token_stops_the_run_without_showing_the_token(store: Store) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.populate(3)
    wrong = MetaConfig(
        base_url=BASE_URL, access_token=SecretStr("EAAwrong-token-1234"), form_ids=list(FORMS)
    )
    run = await Harness(store, lambda: _connector(sandbox, wrong)).pull("leads")
    assert isinstance(run.error, AuthError)
    assert "EAAwrong-token-1234" not in str(run.error) and "system-user token" in str(run.error)


@pytest.mark.anyio
async def test_the_client_paces_itself_to_the_usage_headers_and_is_never_refused(
    store: Store,
) -> None:
    sandbox = MetaSandbox(clock=VirtualClock(), calls_per_hour=20)
    sandbox.populate(60)
    config = MetaConfig(
        base_url=BASE_URL, access_token=SecretStr(TOKEN), form_ids=list(FORMS), page_size=2
    )
    run = await Harness(store, lambda: _connector(sandbox, config)).pull("leads")
    assert run.error is None and len(run.ids) == 60
    assert len(sandbox.requests) > 20, "more calls than one hour's budget"
    assert sandbox.limit is not None and sandbox.limit.refused == 0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_neither_the_token_nor_the_proof_reaches_the_logs(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.populate(6)
    caplog.set_level(logging.DEBUG)
    run = await Harness(store, lambda: _connector(sandbox)).pull("leads")
    assert run.error is None and "sandbox.test" in caplog.text, "the requests were logged"
    proofs = {seen.query.split("appsecret_proof=")[1].split("&")[0] for seen in sandbox.requests}
    for secret in (TOKEN, APP_SECRET, *proofs):
        assert secret not in caplog.text


@pytest.mark.anyio
async def test_the_sandbox_served_on_loopback_answers_the_connector() -> None:
    sandbox = MetaSandbox()
    sandbox.populate(7)
    with running(sandbox) as url:
        config = _config(base_url=url)
        connector = MetaConnector(config, connection="ads")
        found = await read_everything(connector, "leads")
        await connector.aclose()
    assert sorted(found) == sorted(sandbox.records("leads"))
