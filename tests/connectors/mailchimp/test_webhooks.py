"""Mailchimp webhooks: the URL token, the validation GET, form-encoded events -> pages."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.connector import WebhookDelivery, WebhookReply, WebhookRequest
from hub.errors import WebhookRejected
from tests.connectors.mailchimp.helpers import connector

SECRET = "s3cret-path-token"


def _mailchimp(secret: str | None = SECRET):  # type: ignore[no-untyped-def]
    settings = {"webhook_secret": SecretStr(secret)} if secret else {}
    return connector(MailchimpSandbox(), **settings)


def _post(fields: dict[str, str], path: str = SECRET) -> WebhookRequest:
    body = urlencode(fields).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return WebhookRequest("POST", path, headers, {}, body)


UNSUBSCRIBE = {
    "type": "unsubscribe",
    "fired_at": "2024-03-26 21:40:57",
    "data[action]": "unsub",
    "data[reason]": "manual",
    "data[id]": "8a25ff1d98",
    "data[list_id]": "16d6ec4ffc",
    "data[email]": "Ann@Example.com",
    "data[email_type]": "html",
    "data[merges][EMAIL]": "Ann@Example.com",
    "data[merges][FNAME]": "Ann",
    "data[merges][LNAME]": "Lee",
}


def test_the_validation_get_is_answered_and_a_wrong_token_refused() -> None:
    mailchimp = _mailchimp()
    reply = mailchimp.verify_webhook(WebhookRequest("GET", SECRET, {}, {}, b""))
    assert isinstance(reply, WebhookReply) and reply.status == 200
    for path in ("", "wrong", SECRET + "x"):
        with pytest.raises(WebhookRejected, match="token is wrong"):
            mailchimp.verify_webhook(_post(UNSUBSCRIBE, path))
    with pytest.raises(WebhookRejected, match="has no webhook_secret"):
        _mailchimp(None).verify_webhook(_post(UNSUBSCRIBE))


def test_the_delivery_id_is_a_hash_of_the_body_so_a_resend_is_stored_once() -> None:
    mailchimp = _mailchimp()
    first, again = (mailchimp.verify_webhook(_post(UNSUBSCRIBE)) for _ in range(2))
    other = mailchimp.verify_webhook(_post({**UNSUBSCRIBE, "fired_at": "2024-03-26 21:41:00"}))
    assert isinstance(first, WebhookDelivery) and isinstance(other, WebhookDelivery)
    assert first == again and first.delivery_id != other.delivery_id


def test_an_unsubscribe_becomes_an_opt_out_of_the_member() -> None:
    mailchimp = _mailchimp()
    [(stream, page)] = mailchimp.webhook_pages(_post(UNSUBSCRIBE))
    assert stream == "customers" and page.cursor is None
    [record] = [mailchimp.to_canonical(stream, raw) for raw in page.records]
    assert record.external_id == subscriber_hash("ann@example.com")
    assert record.record.canonical_dict() == {
        "first_name": "Ann",
        "last_name": "Lee",
        "emails": ["ann@example.com"],
        "consents": {
            "email": {
                "status": "unsubscribed",
                "source": "newsletter",
                "recorded_at": "2024-03-26T21:40:57Z",
            }
        },
        "updated_at": "2024-03-26T21:40:57Z",
    }


@pytest.mark.parametrize(
    ("fields", "consent"),
    [
        (
            {"type": "subscribe"},
            {"status": "subscribed", "source": "newsletter", "recorded_at": "2024-03-26T21:40:57Z"},
        ),
        (
            {"type": "cleaned", "data[reason]": "hard"},
            {
                "status": "unsubscribed",
                "source": "newsletter",
                "recorded_at": "2024-03-26T21:40:57Z",
            },
        ),
        ({"type": "profile"}, None),
    ],
)
def test_subscribe_cleaned_and_profile_events(fields: dict[str, str], consent: object) -> None:
    mailchimp = _mailchimp()
    [(_, page)] = mailchimp.webhook_pages(_post({**UNSUBSCRIBE, **fields}))
    record = mailchimp.to_canonical("customers", page.records[0]).record
    assert record.canonical_dict().get("consents", {}).get("email") == consent


def test_an_address_change_keeps_the_member_and_a_deletion_is_a_tombstone() -> None:
    mailchimp = _mailchimp()
    upemail = {
        "type": "upemail",
        "fired_at": "2024-03-26 22:00:00",
        "data[list_id]": "16d6ec4ffc",
        "data[new_id]": "51da8c3259",
        "data[new_email]": "ann.lee@example.com",
        "data[old_email]": "ann@example.com",
    }
    [(_, page)] = mailchimp.webhook_pages(_post(upemail))
    record = mailchimp.to_canonical("customers", page.records[0])
    assert record.external_id == subscriber_hash("ann@example.com")
    assert record.record.canonical_dict()["emails"] == ["ann.lee@example.com"]
    [(_, gone)] = mailchimp.webhook_pages(_post({**UNSUBSCRIBE, "data[action]": "delete"}))
    assert (gone.records, gone.deleted) == ([], [subscriber_hash("ann@example.com")])


def test_a_sent_campaign_event_becomes_a_campaign_page() -> None:
    mailchimp = _mailchimp()
    event = {
        "type": "campaign",
        "fired_at": "2024-03-26 21:31:21",
        "data[id]": "5aa2102003",
        "data[subject]": "June news",
        "data[status]": "sent",
        "data[list_id]": "16d6ec4ffc",
    }
    [(stream, page)] = mailchimp.webhook_pages(_post(event))
    campaign = mailchimp.to_canonical(stream, page.records[0])
    assert (stream, campaign.external_id) == ("campaigns", "5aa2102003")
    assert campaign.record.canonical_dict() == {
        "name": "June news",
        "channel": "email",
        "status": "sent",
        "sent_at": "2024-03-26T21:31:21Z",
    }
