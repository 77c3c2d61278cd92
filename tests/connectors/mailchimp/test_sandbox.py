"""The Mailchimp sandbox keeps the Marketing API's contract: auth, errors, paging, member rules.

These talk raw HTTP to the sandbox, so a connector bug cannot hide a sandbox
bug; the connector's own tests then rest on what is proven here.
"""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from datetime import datetime

import httpx
import pytest

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, LIST_ID, MAX_CONNECTIONS, MailchimpSandbox
from hub.http import VirtualClock
from hub.testing.faults import Fault

pytestmark = pytest.mark.anyio

MEMBERS = f"/3.0/lists/{LIST_ID}/members"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture
def sandbox() -> MailchimpSandbox:
    sandbox = MailchimpSandbox(clock=VirtualClock())
    sandbox.populate(18, seed=3)  # the twelve who gave consent are in the audience
    return sandbox


def _client(sandbox: MailchimpSandbox, key: str | None = API_KEY) -> httpx.AsyncClient:
    return sandbox.client(auth=("anyone", key) if key else None)


def _problem(response: httpx.Response, status: int, title: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == PROBLEM_KEYS and (body["status"], body["title"]) == (status, title)
    return dict(body)


async def test_a_missing_or_wrong_key_is_a_problem_json_401(sandbox: MailchimpSandbox) -> None:
    async with _client(sandbox, None) as client:
        _problem(await client.get(MEMBERS), 401, "API Key Missing")
    async with _client(sandbox, "0000-us21") as client:
        _problem(await client.get(MEMBERS), 401, "API Key Invalid")
    async with _client(sandbox) as client:
        assert (await client.get(MEMBERS)).status_code == 200


async def test_an_oauth_bearer_token_is_accepted(sandbox: MailchimpSandbox) -> None:
    sandbox.tokens.add("oauth-token")
    async with sandbox.client(headers={"Authorization": "Bearer oauth-token"}) as client:
        assert (await client.get("/3.0/ping")).json() == {"health_status": "Everything's Chimpy!"}


async def test_members_page_by_count_and_offset_with_total_items(sandbox: MailchimpSandbox) -> None:
    async with _client(sandbox) as client:
        first = (await client.get(MEMBERS, params={"count": 5})).json()
        last = (await client.get(MEMBERS, params={"count": 5, "offset": 10})).json()
        too_many = await client.get(MEMBERS, params={"count": 1001})
        default = (await client.get(MEMBERS)).json()
    assert (len(first["members"]), first["total_items"]) == (5, 12)
    assert len(last["members"]) == 2
    _problem(too_many, 400, "Invalid Resource")
    assert len(default["members"]) == 10  # Mailchimp's default count


async def test_since_last_changed_sorting_and_times_to_the_second_with_utc_offset(
    sandbox: MailchimpSandbox,
) -> None:
    email = next(iter(sandbox.members.values()))["email_address"]
    changed = sandbox.set_status(email, "unsubscribed")["last_changed"]
    async with _client(sandbox) as client:
        body = (
            await client.get(
                MEMBERS,
                params={
                    "since_last_changed": changed,
                    "sort_field": "last_changed",
                    "sort_dir": "ASC",
                    "exclude_fields": "members._links,_links",
                },
            )
        ).json()
    assert [m["email_address"] for m in body["members"]] == [email]
    assert "_links" not in body and "_links" not in body["members"][0]
    assert changed.endswith("+00:00") and datetime.fromisoformat(changed).microsecond == 0


async def test_the_member_id_is_the_md5_of_the_lower_cased_address(
    sandbox: MailchimpSandbox,
) -> None:
    for member_id, member in sandbox.members.items():
        assert member_id == subscriber_hash(member["email_address"].lower())
    async with _client(sandbox) as client:
        wrong = await client.put(
            f"{MEMBERS}/{subscriber_hash('other@example.com')}",
            json={"email_address": "ann@example.com", "status_if_new": "subscribed"},
        )
    _problem(wrong, 400, "Invalid Resource")


async def test_status_if_new_only_applies_to_new_members(sandbox: MailchimpSandbox) -> None:
    async with _client(sandbox) as client:
        url = f"{MEMBERS}/{subscriber_hash('New@Example.com')}"
        body = {"email_address": "New@Example.com", "status_if_new": "transactional"}
        created = (await client.put(url, json=body)).json()
        again = (await client.put(url, json={**body, "status_if_new": "subscribed"})).json()
    assert created["status"] == again["status"] == "transactional"


@pytest.mark.parametrize(
    ("held", "wanted", "allowed"),
    [
        ("cleaned", "subscribed", False),
        ("cleaned", "pending", False),
        ("unsubscribed", "subscribed", False),
        ("unsubscribed", "pending", True),
        ("transactional", "subscribed", True),
        ("subscribed", "unsubscribed", True),
    ],
)
async def test_status_changes_follow_mailchimps_compliance_rules(
    sandbox: MailchimpSandbox, held: str, wanted: str, allowed: bool
) -> None:
    sandbox.add_member("ann@example.com", held)
    async with _client(sandbox) as client:
        response = await client.put(
            f"{MEMBERS}/{subscriber_hash('ann@example.com')}",
            json={"email_address": "ann@example.com", "status": wanted},
        )
    if allowed:
        assert response.json()["status"] == wanted
    else:
        _problem(response, 400, "Member In Compliance State")
        assert sandbox.members[subscriber_hash("ann@example.com")]["status"] == held


async def test_post_of_an_existing_member_and_re_adding_a_forgotten_one_are_refused(
    sandbox: MailchimpSandbox,
) -> None:
    email = next(iter(sandbox.members.values()))["email_address"]
    hashed = subscriber_hash(email)
    async with _client(sandbox) as client:
        exists = await client.post(MEMBERS, json={"email_address": email, "status": "subscribed"})
        deleted = await client.post(f"{MEMBERS}/{hashed}/actions/delete-permanent")
        gone = await client.post(f"{MEMBERS}/{hashed}/actions/delete-permanent")
        back = await client.put(
            f"{MEMBERS}/{hashed}", json={"email_address": email, "status_if_new": "subscribed"}
        )
    _problem(exists, 400, "Member Exists")
    assert deleted.status_code == 204
    _problem(gone, 404, "Resource Not Found")
    _problem(back, 400, "Forgotten Email Not Subscribed")


async def test_tags_are_activated_and_deactivated_by_name(sandbox: MailchimpSandbox) -> None:
    sandbox.add_member("ann@example.com", "subscribed", tags=["old"])
    url = f"{MEMBERS}/{subscriber_hash('ann@example.com')}/tags"
    async with _client(sandbox) as client:
        body = {
            "tags": [{"name": "vip", "status": "active"}, {"name": "old", "status": "inactive"}]
        }
        assert (await client.post(url, json=body)).status_code == 204
    assert [t["name"] for t in sandbox.members[subscriber_hash("ann@example.com")]["tags"]] == [
        "vip"
    ]


async def test_more_than_ten_requests_at_once_get_429(sandbox: MailchimpSandbox) -> None:
    sandbox.faults.add(Fault.delay(1), times=MAX_CONNECTIONS + 2)
    async with _client(sandbox) as client:
        responses = await asyncio.gather(*(client.get("/3.0/ping") for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * MAX_CONNECTIONS + [429, 429]
    _problem(next(r for r in responses if r.status_code == 429), 429, "Too Many Requests")


async def test_a_batch_runs_later_and_leaves_a_tar_gz_of_json_responses(
    sandbox: MailchimpSandbox,
) -> None:
    operations = [
        {
            "method": "PUT",
            "path": f"/lists/{LIST_ID}/members/{subscriber_hash('b@example.com')}",
            "operation_id": "one",
            "body": json.dumps(
                {"email_address": "b@example.com", "status_if_new": "transactional"}
            ),
        },
        {
            "method": "PUT",
            "path": f"/lists/{LIST_ID}/members/{subscriber_hash('x@example.com')}",
            "operation_id": "two",
            "body": json.dumps({"email_address": "x@example.com"}),
        },
    ]
    async with _client(sandbox) as client:
        started = (await client.post("/3.0/batches", json={"operations": operations})).json()
        early = (await client.get(f"/3.0/batches/{started['id']}")).json()
        assert subscriber_hash("b@example.com") not in sandbox.members  # not run yet
        await sandbox.clock.sleep(1)
        done = (await client.get(f"/3.0/batches/{started['id']}")).json()
        async with httpx.AsyncClient(transport=sandbox.transport()) as anonymous:
            archive = (await anonymous.get(done["response_body_url"])).content
    assert (started["status"], early["status"]) == ("pending", "pending")
    assert (done["status"], done["finished_operations"], done["errored_operations"]) == (
        "finished",
        2,
        1,
    )
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        results = [
            entry
            for member in tar.getmembers()
            for entry in json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
        ]
    by_id = {r["operation_id"]: r for r in results}
    assert by_id["one"]["status_code"] == 200
    assert json.loads(by_id["one"]["response"])["status"] == "transactional"
    assert by_id["two"]["status_code"] == 400


async def test_static_segments_are_created_listed_and_filled_at_most_500_at_a_time(
    sandbox: MailchimpSandbox,
) -> None:
    sandbox.add_member("ann@example.com", "subscribed")
    sandbox.add_member("bob@example.com", "transactional")
    segments = f"/3.0/lists/{LIST_ID}/segments"
    async with _client(sandbox) as client:
        created = await client.post(
            segments, json={"name": "champions", "static_segment": ["ann@example.com"]}
        )
        assert created.status_code == 200
        segment = created.json()
        assert segment["type"] == "static" and segment["member_count"] == 1
        assert isinstance(segment["id"], int) and segment["created_at"].endswith("+00:00")
        _problem(await client.post(segments, json={"static_segment": []}), 400, "Invalid Resource")

        listed = (await client.get(segments, params={"type": "static"})).json()
        assert [s["name"] for s in listed["segments"]] == ["champions"]
        assert listed["total_items"] == 1
        assert (await client.get(segments, params={"type": "saved"})).json()["segments"] == []

        url = f"{segments}/{segment['id']}"
        answer = await client.post(
            url,
            json={
                "members_to_add": ["bob@example.com", "ann@example.com", "nobody@example.com"],
                "members_to_remove": [],
            },
        )
        body = answer.json()
        assert body["total_added"] == 1 and body["total_removed"] == 0  # Ann was in already
        assert body["errors"][0]["email_addresses"] == ["nobody@example.com"]
        assert body["error_count"] == 1
        removed = await client.post(url, json={"members_to_remove": ["ann@example.com"]})
        assert removed.json()["total_removed"] == 1

        too_many = [f"p{n}@example.com" for n in range(501)]
        refused = _problem(
            await client.post(url, json={"members_to_add": too_many}), 400, "Invalid Resource"
        )
        assert "at most 500 items" in str(refused["detail"])
        _problem(
            await client.post(f"{segments}/999", json={"members_to_add": []}),
            404,
            "Resource Not Found",
        )
        members = (await client.get(f"{url}/members")).json()
    assert [m["email_address"] for m in members["members"]] == ["bob@example.com"]
    assert sandbox.static_segments.named("champions") == ["bob@example.com"]


async def test_merge_fields_are_a_new_audiences_and_birthday_takes_month_and_day(
    sandbox: MailchimpSandbox,
) -> None:
    url = f"{MEMBERS}/{subscriber_hash('ann@example.com')}"
    body = {"email_address": "ann@example.com", "status_if_new": "transactional"}
    async with _client(sandbox) as client:
        fields = (await client.get(f"/3.0/lists/{LIST_ID}/merge-fields")).json()["merge_fields"]
        birthday = next(f for f in fields if f["tag"] == "BIRTHDAY")
        assert (birthday["type"], birthday["options"]) == ("birthday", {"date_format": "MM/DD"})
        dated = await client.put(url, json={**body, "merge_fields": {"BIRTHDAY": "1990-04-02"}})
        _problem(dated, 400, "Invalid Resource")
        unknown = await client.put(url, json={**body, "merge_fields": {"SHOE": "42"}})
        _problem(unknown, 400, "Invalid Resource")
        ok = await client.put(url, json={**body, "merge_fields": {"BIRTHDAY": "02/29"}})
        assert ok.status_code == 200 and ok.json()["merge_fields"]["BIRTHDAY"] == "02/29"
