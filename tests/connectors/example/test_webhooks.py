"""The example connector's webhook check and reading: a table of requests and verdicts."""

from __future__ import annotations

import json

import pytest

from connectors.example.webhooks import events_to_pages, sign, verify
from hub.connector import Page, WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected

SECRET = "s3cret"
BODY = b'{"id": "evt_1", "type": "contact.updated", "data": {"id": "ct_1"}}'


def _post(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", "", headers, {}, body)


def _get(query: dict[str, str], headers: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("GET", "", headers, query, b"")


SIGNED = {"x-example-signature": sign(SECRET, BODY), "x-example-event-id": "evt_1"}

VERDICTS = [
    (_post(BODY, SIGNED), WebhookDelivery("evt_1")),
    (
        _get({"challenge": "abc"}, {"x-example-signature": sign(SECRET, b"abc")}),
        WebhookReply(body="abc"),
    ),
]
REFUSALS = [
    (_post(BODY + b" ", SIGNED), "does not match the body"),
    (_post(BODY, {**SIGNED, "x-example-signature": sign("other", BODY)}), "does not match"),
    (_post(BODY, {"x-example-event-id": "evt_1"}), "does not match"),
    (_post(BODY, {"x-example-signature": sign(SECRET, BODY)}), "no X-Example-Event-Id"),
    (_get({"challenge": "abc"}, {"x-example-signature": sign(SECRET, b"abd")}), "challenge"),
    (_get({}, {}), "challenge"),
]


@pytest.mark.parametrize(("request_", "verdict"), VERDICTS)
def test_genuine_calls_are_accepted(
    request_: WebhookRequest, verdict: WebhookDelivery | WebhookReply
) -> None:
    assert verify(SECRET, request_) == verdict


@pytest.mark.parametrize(("request_", "reason"), REFUSALS)
def test_forged_calls_are_refused(request_: WebhookRequest, reason: str) -> None:
    with pytest.raises(WebhookRejected, match=reason):
        verify(SECRET, request_)


def test_without_a_secret_every_call_is_refused() -> None:
    with pytest.raises(WebhookRejected, match="no webhook_secret"):
        verify(None, _post(BODY, SIGNED))


EVENTS = [
    (
        {"type": "contact.created", "data": {"id": "ct_1", "email": "a@x.com"}},
        [("customers", Page([{"id": "ct_1", "email": "a@x.com"}], None))],
    ),
    (
        {"type": "contact.updated", "data": {"id": "ct_2"}},
        [("customers", Page([{"id": "ct_2"}], None))],
    ),
    (
        {"type": "contact.deleted", "data": {"id": "ct_3"}},
        [("customers", Page([], None, ["ct_3"]))],
    ),
]


@pytest.mark.parametrize(("event", "pages"), EVENTS)
def test_events_become_pages_that_never_carry_a_cursor(
    event: dict[str, object], pages: list[tuple[str, Page]]
) -> None:
    assert events_to_pages(json.dumps(event).encode()) == pages


@pytest.mark.parametrize(
    "body", [b"[]", b'{"type": "contact.updated"}', b'{"type": "contact.merged", "data": {}}']
)
def test_an_event_the_api_does_not_send_is_refused_as_unreadable(body: bytes) -> None:
    with pytest.raises(ValueError):
        events_to_pages(body)
