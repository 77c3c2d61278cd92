"""The leadgen webhook: subscription handshake, signature, delivery id, lead references."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from connectors.meta.config import MetaConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.sandbox import APP_SECRET, FORMS, TOKEN, VERIFY_TOKEN, MetaSandbox
from hub.connector import WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected
from hub.http import VirtualClock
from hub.testing.sandbox import BASE_URL


def _connector(sandbox: MetaSandbox) -> MetaConnector:
    config = MetaConfig(
        base_url=BASE_URL,
        access_token=SecretStr(TOKEN),
        app_secret=SecretStr(APP_SECRET),
        verify_token=SecretStr(VERIFY_TOKEN),
        form_ids=list(FORMS),
    )
    return MetaConnector(
        config, connection="ads", transport=sandbox.transport(), clock=sandbox.clock
    )


def _post(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", "", headers, {}, body)


def test_the_subscription_challenge_is_echoed_only_for_our_verify_token() -> None:
    connector = _connector(MetaSandbox(clock=VirtualClock()))
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    reply = connector.verify_webhook(WebhookRequest("GET", "", {}, query, b""))
    assert reply == WebhookReply(200, "1158201444")
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(
            WebhookRequest("GET", "", {}, {**query, "hub.verify_token": "guess"}, b"")
        )


def test_a_signed_delivery_is_accepted_and_maps_to_a_lead_reference() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    connector = _connector(sandbox)
    body, headers = sandbox.submit_lead(FORMS[0], {"email": "ann@example.com"})
    lead_id = json.loads(body)["entry"][0]["changes"][0]["value"]["leadgen_id"]
    delivery = connector.verify_webhook(_post(body, headers))
    assert delivery == WebhookDelivery(f"leadgen:{sandbox_page(body)}:{lead_id}")
    [(stream, page)] = connector.webhook_pages(_post(body, headers))
    assert stream == "lead_events" and page.cursor is None
    event = connector.to_canonical(stream, page.records[0])
    assert event.record.model_dump()["customer_ref"] == lead_id
    assert "ann@example.com" not in json.dumps(page.records), "a delivery carries no answers"


def sandbox_page(body: bytes) -> str:
    return str(json.loads(body)["entry"][0]["id"])


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, headers: (body.replace(b"page", b"page "), headers),
        lambda body, headers: (body, {"x-hub-signature-256": "sha256=" + "0" * 64}),
        lambda body, headers: (body, {}),
        lambda body, headers: (
            body,
            {"x-hub-signature-256": headers["x-hub-signature-256"].replace("sha256", "sha1")},
        ),
    ],
    ids=["body changed", "wrong signature", "no signature", "wrong scheme"],
)
def test_a_forged_delivery_is_rejected(forge: object) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    body, headers = sandbox.submit_lead(FORMS[0], {"email": "ann@example.com"})
    forged_body, forged_headers = forge(body, headers)  # type: ignore[operator]
    with pytest.raises(WebhookRejected, match="X-Hub-Signature-256"):
        _connector(sandbox).verify_webhook(_post(forged_body, forged_headers))
