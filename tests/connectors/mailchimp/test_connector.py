"""The Mailchimp connector beyond the standard suite: auth, cursors, consent-safe writes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import LIST_ID, MailchimpSandbox
from hub.connector import Change
from hub.errors import AuthError
from hub.http import VirtualClock
from hub.model import Channel, Consent, Customer, SegmentMembership
from tests.connectors.mailchimp.helpers import connector

pytestmark = pytest.mark.anyio

OPTED_IN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def sandbox() -> MailchimpSandbox:
    return MailchimpSandbox(clock=VirtualClock())


def _person(email: str, status: str | None = None, **fields: object) -> Customer:
    consents = {}
    if status is not None:
        recorded = OPTED_IN if status == "subscribed" else None
        consents = {Channel.EMAIL: Consent(status=status, recorded_at=recorded)}
    return Customer(emails=[email], consents=consents, **fields)  # type: ignore[arg-type]


async def _write(sandbox: MailchimpSandbox, *people: Customer, **settings: object) -> list:  # type: ignore[type-arg]
    mailchimp = connector(sandbox, **settings)  # type: ignore[arg-type]
    try:
        changes = [Change(f"hub-{n}", person) for n, person in enumerate(people)]
        return await mailchimp.write("customers", changes)
    finally:
        await mailchimp.aclose()


def _status(sandbox: MailchimpSandbox, email: str) -> str:
    return str(sandbox.members[subscriber_hash(email)]["status"])


def test_the_data_centre_comes_from_the_key_and_a_token_needs_a_server() -> None:
    keyed = MailchimpConfig(api_key=SecretStr("abc-us6"), list_id="l1")
    assert keyed.root == "https://us6.api.mailchimp.com/3.0/"
    token = MailchimpConfig(access_token=SecretStr("t"), server="us19", list_id="l1")
    assert token.root == "https://us19.api.mailchimp.com/3.0/"
    with pytest.raises(ValidationError, match="no data centre suffix"):
        MailchimpConfig(access_token=SecretStr("t"), list_id="l1")
    with pytest.raises(ValidationError, match="exactly one of api_key and access_token"):
        MailchimpConfig(api_key=SecretStr("a-us1"), access_token=SecretStr("t"), list_id="l1")
    with pytest.raises(ValidationError, match="'lead' is not one of"):
        MailchimpConfig(api_key=SecretStr("a-us1"), list_id="l1", merge_fields={"X": "lead"})


async def test_a_wrong_key_stops_the_run_without_showing_the_key(sandbox: MailchimpSandbox) -> None:
    key = "ffffffffffffffffffffffffffffffff-us21"
    mailchimp = connector(sandbox, api_key=SecretStr(key))
    with pytest.raises(AuthError) as caught:
        async for _ in mailchimp.read("customers", None):
            pass
    await mailchimp.aclose()
    message = str(caught.value)
    assert key not in message and base64.b64encode(f"crmhub:{key}".encode()).decode() not in message
    assert "HTTP 401" in message


async def test_members_sharing_a_second_are_each_read_once_across_runs(
    sandbox: MailchimpSandbox,
) -> None:
    same = "2023-06-01T10:00:00+00:00"  # before the sandbox clock, as a past import
    for number in range(14):
        sandbox.add_member(f"p{number}@example.com", "subscribed", changed=same)
    cursor, ids = None, []
    for _ in range(2):
        mailchimp = connector(sandbox)
        async for page in mailchimp.read("customers", cursor):
            ids += [m["id"] for m in page.records]
            cursor = page.cursor
        await mailchimp.aclose()
    assert len(ids) == len(set(ids)) == 14
    sandbox.set_status("p3@example.com", "unsubscribed")
    mailchimp = connector(sandbox)
    again = [
        m["email_address"]
        async for page in mailchimp.read("customers", cursor)
        for m in page.records
    ]
    await mailchimp.aclose()
    assert again == ["p3@example.com"]


async def test_a_hub_opt_in_never_resubscribes_an_unsubscribed_or_cleaned_member(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("gone@example.com", "unsubscribed")
    sandbox.add_member("bounced@example.com", "cleaned")
    results = await _write(
        sandbox,
        _person("gone@example.com", "subscribed"),
        _person("bounced@example.com", "subscribed"),
    )
    assert all(r.ok for r in results)
    assert (_status(sandbox, "gone@example.com"), _status(sandbox, "bounced@example.com")) == (
        "unsubscribed",
        "cleaned",
    )


async def test_a_hub_opt_out_unsubscribes_the_member(sandbox: MailchimpSandbox) -> None:
    sandbox.add_member("ann@example.com", "subscribed")
    [result] = await _write(sandbox, _person("ann@example.com", "unsubscribed"))
    assert result.ok and _status(sandbox, "ann@example.com") == "unsubscribed"


async def test_a_person_without_recorded_consent_is_added_transactional_or_not_at_all(
    sandbox: MailchimpSandbox,
) -> None:
    unrecorded = Customer(
        emails=["u@example.com"], consents={Channel.EMAIL: Consent(status="subscribed")}
    )
    results = await _write(sandbox, _person("none@example.com"), unrecorded)
    assert all(r.ok for r in results)
    assert (
        _status(sandbox, "none@example.com") == _status(sandbox, "u@example.com") == "transactional"
    )
    [skipped] = await _write(sandbox, _person("skip@example.com"), without_consent="skip")
    assert skipped.ok and skipped.external_id is None
    assert subscriber_hash("skip@example.com") not in sandbox.members


async def test_a_recorded_opt_in_subscribes_a_new_person_and_upgrades_a_transactional_one(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("known@example.com", "transactional")
    await _write(
        sandbox,
        _person("new@example.com", "subscribed"),
        _person("known@example.com", "subscribed"),
    )
    assert (
        _status(sandbox, "new@example.com") == _status(sandbox, "known@example.com") == "subscribed"
    )
    member = sandbox.members[subscriber_hash("new@example.com")]
    assert member["timestamp_opt"] == "2024-05-01T09:30:00+00:00"


async def test_merge_fields_follow_the_configured_mapping_and_tags_the_hubs_set(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("ann@example.com", "subscribed", tags=["old", "vip"])
    sandbox.merge_types |= {"GIVEN": "text", "TIER": "text"}  # the audience's own fields
    ann = _person(
        "ann@example.com", first_name="Ann", tags=["vip", "buyer"], attributes={"tier": "gold"}
    )
    await _write(sandbox, ann, merge_fields={"GIVEN": "first_name", "TIER": "attribute:tier"})
    member = sandbox.members[subscriber_hash("ann@example.com")]
    assert (member["merge_fields"]["GIVEN"], member["merge_fields"]["TIER"]) == ("Ann", "gold")
    assert sorted(t["name"] for t in member["tags"]) == ["buyer", "vip"]


async def test_erasure_deletes_permanently_and_the_address_cannot_be_re_added(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("ann@example.com", "subscribed")
    hashed = subscriber_hash("ann@example.com")
    mailchimp = connector(sandbox)
    [erased] = await mailchimp.write(
        "customers", [Change("hub-1", Customer.model_construct(), external_id=hashed, op="delete")]
    )
    await mailchimp.aclose()
    assert erased.ok and hashed not in sandbox.members
    assert ("POST", f"/3.0/lists/{LIST_ID}/members/{hashed}/actions/delete-permanent") in {
        (r.method, r.path) for r in sandbox.requests
    }
    [again] = await _write(sandbox, _person("ann@example.com", "subscribed"))
    assert again.error is not None and "was permanently deleted" in again.error
    assert "only the person can subscribe again" in again.error


async def test_large_pushes_go_through_batches_with_results_per_record(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("forgotten@example.com", "subscribed", tags=["x"])
    sandbox.forgotten.add(sandbox.members.pop(subscriber_hash("forgotten@example.com"))["id"])
    sandbox.add_member("t@example.com", "transactional")
    people = [_person(f"b{n}@example.com", tags=["buyer"]) for n in range(4)]
    people += [_person("forgotten@example.com"), _person("t@example.com", "subscribed")]
    results = await _write(sandbox, *people, batch_threshold=3)
    assert len(sandbox.batches) == 2  # upserts, then the tags and the opt-in upgrade
    assert [r.ok for r in results] == [True, True, True, True, False, True]
    assert "Forgotten Email Not Subscribed" in (results[4].error or "")
    assert [_status(sandbox, f"b{n}@example.com") for n in range(4)] == ["transactional"] * 4
    assert sandbox.members[subscriber_hash("b0@example.com")]["tags"][0]["name"] == "buyer"
    assert _status(sandbox, "t@example.com") == "subscribed"
    assert results[0].external_id == subscriber_hash("b0@example.com")
    assert not any(
        r.path.startswith(f"/3.0/lists/{LIST_ID}/members/") and r.method == "PUT"
        for r in sandbox.requests
    )


async def test_segment_memberships_become_member_tags(sandbox: MailchimpSandbox) -> None:
    sandbox.add_member("ann@example.com", "subscribed")
    ann = Customer(emails=["ann@example.com"])
    mailchimp = connector(sandbox)
    changes = [
        Change("h1", SegmentMembership(segment="at_risk", customer=ann)),
        Change("h1", SegmentMembership(segment="champions", customer=ann)),
        Change("h1", SegmentMembership(segment="at_risk", member=False, customer=ann)),
        Change(
            "h2",
            SegmentMembership(
                segment="at_risk", member=False, customer=Customer(emails=["nobody@example.com"])
            ),
        ),
    ]
    results = await mailchimp.write("segment_members", changes)
    await mailchimp.aclose()
    assert all(r.ok for r in results)
    assert [t["name"] for t in sandbox.members[subscriber_hash("ann@example.com")]["tags"]] == [
        "champions"
    ]


async def test_segment_memberships_become_static_segments_when_configured(
    sandbox: MailchimpSandbox,
) -> None:
    for n in range(1, 603):
        sandbox.add_member(f"p{n}@example.com", "subscribed")
    people = {n: Customer(emails=[f"p{n}@example.com"]) for n in range(1, 603)}
    mailchimp = connector(sandbox, segments_as="static_segments")
    joins = [
        Change(f"h{n}", SegmentMembership(segment="champions", customer=people[n])) for n in people
    ]
    joins.append(
        Change(
            "h0",
            SegmentMembership(
                segment="champions", customer=Customer(emails=["nobody@example.com"])
            ),
        )
    )
    results = await mailchimp.write("segment_members", joins)
    assert [r.ok for r in results] == [True] * 602 + [False]
    assert "nobody" not in str(results[0].error) and "not in this audience" in str(
        results[-1].error
    )
    assert results[0].external_id == subscriber_hash("p1@example.com")
    assert len(sandbox.static_segments.named("champions")) == 602
    posts = [r for r in sandbox.requests if r.method == "POST" and "/segments/" in r.path]
    assert len(posts) == 2, "602 addresses go in two requests of at most 500"

    # A second push finds the segment by name; a leave removes, an absent person is no error.
    again = connector(sandbox, segments_as="static_segments")
    leaves = [
        Change("h1", SegmentMembership(segment="champions", member=False, customer=people[1])),
        Change(
            "h0",
            SegmentMembership(
                segment="champions", member=False, customer=Customer(emails=["nobody@example.com"])
            ),
        ),
    ]
    assert all(r.ok for r in await again.write("segment_members", leaves))
    await mailchimp.aclose()
    await again.aclose()
    assert len(sandbox.static_segments.segments) == 1
    assert "p1@example.com" not in sandbox.static_segments.named("champions")
    assert sandbox.members[subscriber_hash("p2@example.com")]["tags"] == [], "no tags in this mode"


async def test_email_activity_is_read_once_and_then_only_what_is_new(
    sandbox: MailchimpSandbox,
) -> None:
    campaign = sandbox.add_campaign("June", sends=10, opens=3, clicks=1)["id"]
    sandbox.record_activity(campaign, "ann@example.com", "open")
    sandbox.record_activity(campaign, "ann@example.com", "click", url="https://shop.example/x")

    async def read(cursor: str | None) -> tuple[list[str], str | None]:
        mailchimp = connector(sandbox)
        actions = []
        async for page in mailchimp.read("email_activity", cursor):
            actions += [e["action"] for e in page.records]
            cursor = page.cursor
        await mailchimp.aclose()
        return actions, cursor

    first, cursor = await read(None)
    idle, cursor = await read(cursor)
    sandbox.record_activity(campaign, "bob@example.com", "open")
    later, _ = await read(cursor)
    assert (first, idle, later) == (["open", "click"], [], ["open"])


async def test_a_linked_member_keeps_its_address_when_the_person_has_several(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("ann.work@example.com", "subscribed")
    linked = subscriber_hash("ann.work@example.com")
    ann = Customer(emails=["ann@example.com", "ann.work@example.com"], first_name="Ann")
    mailchimp = connector(sandbox)
    [result] = await mailchimp.write("customers", [Change("h1", ann, external_id=linked)])
    await mailchimp.aclose()
    assert result.external_id == linked and len(sandbox.members) == 1
    assert sandbox.members[linked]["merge_fields"]["FNAME"] == "Ann"
