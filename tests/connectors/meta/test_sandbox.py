"""The Meta sandbox answers like the Graph API: auth errors, usage headers, upload checks."""

from __future__ import annotations

import hashlib
import json

import pytest

from connectors.meta.sandbox import ACCOUNT, FORMS, TOKEN, MetaSandbox
from hub.http import VirtualClock

AUTH = {"access_token": TOKEN}


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("params", "code", "subcode"),
    [({}, 104, None), ({"access_token": "nope"}, 190, 467)],
    ids=["missing", "invalid"],
)
async def test_a_call_without_a_valid_token_gets_an_oauth_exception(
    params: dict[str, str], code: int, subcode: int | None
) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    async with sandbox.client() as http:
        response = await http.get(f"/v21.0/{FORMS[0]}/leads", params=params)
    error = response.json()["error"]
    assert response.status_code == 400 and error["type"] == "OAuthException"
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert error["fbtrace_id"] and "invalid_token" in response.headers["www-authenticate"]


@pytest.mark.anyio
async def test_usage_headers_rise_with_traffic_and_a_full_window_throttles() -> None:
    sandbox = MetaSandbox(clock=VirtualClock(), calls_per_hour=10)
    seen = []
    async with sandbox.client() as http:
        for _ in range(11):
            response = await http.get(f"/v21.0/{FORMS[0]}/leads", params=AUTH)
            seen.append(json.loads(response.headers["x-app-usage"])["call_count"])
    assert seen[:10] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert response.status_code == 400 and response.json()["error"]["code"] == 80004
    [use_case] = json.loads(response.headers["x-business-use-case-usage"]).values()
    assert use_case[0]["estimated_time_to_regain_access"] == 60


@pytest.mark.anyio
async def test_leads_page_newest_first_with_cursors_and_a_next_link_until_the_end() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.populate(6)
    async with sandbox.client() as http:
        first = (await http.get(f"/v21.0/{FORMS[0]}/leads", params={**AUTH, "limit": 2})).json()
        after = first["paging"]["cursors"]["after"]
        assert "access_token=" in first["paging"]["next"]
        second = (
            await http.get(f"/v21.0/{FORMS[0]}/leads", params={**AUTH, "limit": 2, "after": after})
        ).json()
    times = [lead["created_time"] for lead in first["data"] + second["data"]]
    assert times == sorted(times, reverse=True) and len(times) == 3
    assert "next" not in second["paging"]


async def _upload(sandbox: MetaSandbox, rows: list[list[str]]) -> dict[str, object]:
    async with sandbox.client() as http:
        created = await http.post(
            f"/v21.0/act_{ACCOUNT}/customaudiences",
            params=AUTH,
            data={"name": "x", "subtype": "CUSTOM", "customer_file_source": "USER_PROVIDED_ONLY"},
        )
        payload = json.dumps({"schema": ["EMAIL", "FN"], "data": rows})
        response = await http.post(
            f"/v21.0/{created.json()['id']}/users", params=AUTH, data={"payload": payload}
        )
    return dict(response.json())


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("row", "says"),
    [
        (["ann@example.com", ""], "EMAIL is not a SHA-256 hash"),
        ([_sha("Ann.Lee.1@example.es"), ""], "EMAIL was hashed before it was normalised"),
        ([_sha("ann.lee.1@example.es"), _sha("Ann")], "FN was hashed before it was normalised"),
        (["", ""], "has no identifier"),
    ],
    ids=["unhashed", "capitals in the e-mail", "capitals in the name", "empty"],
)
async def test_an_upload_with_a_bad_identifier_is_refused(row: list[str], says: str) -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.check.know(email="Ann.Lee.1@example.es", first_name="Ann")
    answer = await _upload(sandbox, [row])
    error = answer["error"]
    assert isinstance(error, dict) and error["code"] == 100 and says in error["message"]


@pytest.mark.anyio
async def test_a_well_hashed_upload_is_received() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    sandbox.check.know(email="Ann.Lee.1@example.es", first_name="Ann")
    answer = await _upload(sandbox, [[_sha("ann.lee.1@example.es"), _sha("ann")]])
    assert answer["num_received"] == 1


@pytest.mark.anyio
async def test_a_wrong_appsecret_proof_is_refused() -> None:
    sandbox = MetaSandbox(clock=VirtualClock())
    async with sandbox.client() as http:
        response = await http.get(
            f"/v21.0/{FORMS[0]}/leads", params={**AUTH, "appsecret_proof": _sha("guess")}
        )
    assert response.status_code == 400
    assert "appsecret_proof" in response.json()["error"]["message"]
