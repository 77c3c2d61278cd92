"""Mailchimp's own Python client (mailchimp-marketing, a test-only dependency) works on the sandbox.

It is written against the real API, so each call the connector makes, sent by
that client over a loopback socket, checks that the sandbox speaks the same
paths, auth, bodies and errors, not just what our connector expects.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import mailchimp_marketing
import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, LIST_ID, MailchimpSandbox
from hub.testing.serve import running


@pytest.fixture
def sandbox() -> MailchimpSandbox:
    sandbox = MailchimpSandbox(batch_seconds=0)
    sandbox.populate(9, seed=4)  # six of them gave consent, so are in the audience
    return sandbox


@pytest.fixture
def official(sandbox: MailchimpSandbox) -> Iterator[Any]:
    with running(sandbox) as base_url:
        client = mailchimp_marketing.Client()
        client.set_config({"api_key": API_KEY})  # the server (us21) comes from the key suffix
        assert client.api_client.server == "us21"
        client.api_client.host = f"{base_url}/3.0"
        yield client


def test_ping_and_a_wrong_key(official: Any) -> None:
    assert official.ping.get() == {"health_status": "Everything's Chimpy!"}
    official.set_config({"api_key": "00000000000000000000000000000000-us21"})
    with pytest.raises(ApiClientError) as caught:
        official.ping.get()
    assert caught.value.status_code == 401
    assert json.loads(caught.value.text)["title"] == "API Key Invalid"


def test_members_are_listed_with_the_connectors_parameters(official: Any) -> None:
    page = official.lists.get_list_members_info(
        LIST_ID,
        count=4,
        offset=0,
        sort_field="last_changed",
        sort_dir="ASC",
        since_last_changed="2019-01-01T00:00:00+00:00",
        exclude_fields=["members._links"],
    )
    assert (len(page["members"]), page["total_items"]) == (4, 6)
    assert "_links" not in page["members"][0]


def test_upsert_tags_and_permanent_delete(official: Any, sandbox: MailchimpSandbox) -> None:
    hashed = subscriber_hash("Ann@Example.com")
    member = official.lists.set_list_member(
        LIST_ID,
        hashed,
        {
            "email_address": "Ann@Example.com",
            "status_if_new": "transactional",
            "merge_fields": {"FNAME": "Ann"},
        },
    )
    assert (member["id"], member["status"]) == (hashed, "transactional")
    official.lists.update_list_member_tags(
        LIST_ID, hashed, {"tags": [{"name": "buyer", "status": "active"}]}
    )
    assert [t["name"] for t in sandbox.members[hashed]["tags"]] == ["buyer"]
    official.lists.delete_list_member_permanent(LIST_ID, hashed)
    with pytest.raises(ApiClientError) as caught:
        official.lists.set_list_member(
            LIST_ID, hashed, {"email_address": "Ann@Example.com", "status_if_new": "subscribed"}
        )
    assert json.loads(caught.value.text)["title"] == "Forgotten Email Not Subscribed"


def test_a_batch_runs_and_its_archive_downloads(official: Any) -> None:
    hashed = subscriber_hash("bob@example.com")
    body = json.dumps({"email_address": "bob@example.com", "status_if_new": "transactional"})
    started = official.batches.start(
        {
            "operations": [
                {
                    "method": "PUT",
                    "path": f"/lists/{LIST_ID}/members/{hashed}",
                    "operation_id": "bob",
                    "body": body,
                }
            ]
        }
    )
    deadline = time.monotonic() + 10
    status = official.batches.status(started["id"])
    while status["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = official.batches.status(started["id"])
    assert (status["status"], status["finished_operations"]) == ("finished", 1)
    archive = requests.get(status["response_body_url"], timeout=10)
    assert archive.status_code == 200 and archive.content[:2] == b"\x1f\x8b"  # gzip


def test_campaigns_reports_and_email_activity(official: Any, sandbox: MailchimpSandbox) -> None:
    campaign = sandbox.add_campaign("June", sends=20, opens=5, clicks=2)["id"]
    sandbox.record_activity(campaign, "ann@example.com", "open")
    listed = official.campaigns.list(
        count=10, offset=0, list_id=LIST_ID, sort_field="create_time", sort_dir="ASC"
    )
    assert [c["id"] for c in listed["campaigns"]] == [campaign]
    assert official.reports.get_campaign_report(campaign)["opens"]["unique_opens"] == 5
    activity = official.reports.get_email_activity_for_campaign(campaign, count=10, offset=0)
    assert activity["emails"][0]["activity"][0]["action"] == "open"


def test_static_segments_as_the_connector_uses_them(
    official: Any, sandbox: MailchimpSandbox
) -> None:
    emails = [m["email_address"] for m in sandbox.members.values()][:3]
    created = official.lists.create_segment(LIST_ID, {"name": "champions", "static_segment": []})
    assert (created["type"], created["member_count"]) == ("static", 0)
    listed = official.lists.list_segments(LIST_ID, type="static", count=10, offset=0)
    assert [s["id"] for s in listed["segments"]] == [created["id"]]
    answer = official.lists.batch_segment_members(
        {"members_to_add": emails, "members_to_remove": []}, LIST_ID, str(created["id"])
    )
    assert (answer["total_added"], answer["error_count"]) == (3, 0)
    answer = official.lists.batch_segment_members(
        {"members_to_add": [], "members_to_remove": emails[:1]}, LIST_ID, str(created["id"])
    )
    assert answer["total_removed"] == 1
    members = official.lists.get_segment_members_list(LIST_ID, str(created["id"]))
    assert sorted(m["email_address"] for m in members["members"]) == sorted(emails[1:])


def test_merge_fields_and_webhooks(official: Any, sandbox: MailchimpSandbox) -> None:
    fields = official.lists.get_list_merge_fields(LIST_ID)
    assert {f["tag"]: f["type"] for f in fields["merge_fields"]}["BIRTHDAY"] == "birthday"
    hook = official.lists.create_list_webhook(
        LIST_ID,
        {
            "url": "http://127.0.0.1:9/webhooks/newsletter/token",
            "events": {"unsubscribe": True, "subscribe": False},
            "sources": {"user": True, "admin": False, "api": False},
        },
    )
    assert hook["events"]["unsubscribe"] and not hook["events"]["subscribe"]
    assert official.lists.get_list_webhooks(LIST_ID)["webhooks"][0]["id"] == hook["id"]
