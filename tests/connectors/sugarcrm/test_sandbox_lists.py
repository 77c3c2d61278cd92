"""The Sugar sandbox's Target Lists keep Sugar's relationship contract.

The paths are those of SugarCRM's own PHP client (the catalogue in
tests/fixtures/vendor/sugarcrm/); the answers and errors follow Sugar's
public REST v11 documentation (RelateRecordApi).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from connectors.sugarcrm.sandbox import SugarSandbox
from hub.http import VirtualClock
from tests.connectors.sugarcrm.test_sandbox import CATALOGUE, LOGIN, ROOT

pytestmark = pytest.mark.anyio


@pytest.fixture
def sandbox() -> SugarSandbox:
    sandbox = SugarSandbox(clock=VirtualClock())
    sandbox.populate(6, seed=3)
    return sandbox


@pytest.fixture
async def api(sandbox: SugarSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox.client() as client:
        token = (await client.post(f"{ROOT}/oauth2/token", json=LOGIN)).json()
        client.headers["OAuth-Token"] = token["access_token"]
        yield client


async def _new_list(api: httpx.AsyncClient, name: str = "vip") -> str:
    created = await api.post(f"{ROOT}/ProspectLists", json={"name": name, "list_type": "default"})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def _contacts(sandbox: SugarSandbox) -> list[str]:
    return sorted(sandbox.modules["Contacts"])


async def test_the_link_paths_are_those_of_sugars_client() -> None:
    link = "{module}/{record}/link/{relationship}"
    used = {("POST", link + "/{remote_id}"), ("DELETE", link + "/{remote_id}"), ("GET", link)}
    assert used <= {(e["method"], e["path"]) for e in CATALOGUE["endpoints"]}


async def test_relating_answers_both_records_and_repeating_it_changes_nothing(
    api: httpx.AsyncClient, sandbox: SugarSandbox
) -> None:
    target, contact = await _new_list(api), _contacts(sandbox)[0]
    path = f"{ROOT}/ProspectLists/{target}/link/contacts/{contact}"
    for _ in range(2):
        answer = await api.post(path)
        assert answer.status_code == 200
        body = answer.json()
        assert (body["record"]["id"], body["related_record"]["id"]) == (target, contact)
    assert sandbox.relations.contacts_on("vip") == {contact}


async def test_unrelating_removes_only_that_contact_and_is_harmless_to_repeat(
    api: httpx.AsyncClient, sandbox: SugarSandbox
) -> None:
    target, (ann, bob, *_) = await _new_list(api), _contacts(sandbox)
    for contact in (ann, bob):
        await api.post(f"{ROOT}/ProspectLists/{target}/link/contacts/{contact}")
    for _ in range(2):
        gone = await api.delete(f"{ROOT}/ProspectLists/{target}/link/contacts/{ann}")
        assert gone.status_code == 200 and gone.json()["related_record"]["id"] == ann
    assert sandbox.relations.contacts_on("vip") == {bob}


async def test_a_link_lists_its_records_in_pages(
    api: httpx.AsyncClient, sandbox: SugarSandbox
) -> None:
    target, contacts = await _new_list(api), _contacts(sandbox)
    for contact in contacts:
        await api.post(f"{ROOT}/ProspectLists/{target}/link/contacts/{contact}")
    seen, offset = [], 0
    while offset != -1:
        page = await api.get(
            f"{ROOT}/ProspectLists/{target}/link/contacts",
            params={"max_num": 4, "offset": offset},
        )
        seen += [record["id"] for record in page.json()["records"]]
        offset = page.json()["next_offset"]
    assert seen == contacts


async def test_a_deleted_contact_leaves_every_list(
    api: httpx.AsyncClient, sandbox: SugarSandbox
) -> None:
    target, contact = await _new_list(api), _contacts(sandbox)[0]
    await api.post(f"{ROOT}/ProspectLists/{target}/link/contacts/{contact}")
    await api.delete(f"{ROOT}/Contacts/{contact}")
    assert sandbox.relations.contacts_on("vip") == set()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("ProspectLists/nope/link/contacts/{contact}", "Could not find record: nope"),
        ("ProspectLists/{target}/link/contacts/nope", "Could not find the related bean"),
        ("ProspectLists/{target}/link/accounts/{contact}", "Could not find a relationship named"),
        ("Widgets/{target}/link/contacts/{contact}", "Could not find module: Widgets"),
    ],
)
async def test_unknown_ends_are_404_not_found_in_sugars_body(
    api: httpx.AsyncClient, sandbox: SugarSandbox, path: str, message: str
) -> None:
    target, contact = await _new_list(api), _contacts(sandbox)[0]
    answer = await api.post(f"{ROOT}/" + path.format(target=target, contact=contact))
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found" and message in answer.json()["error_message"]
    assert sandbox.relations.contacts_on("vip") == set()


async def test_target_lists_are_found_by_name_and_type_with_a_filter(
    api: httpx.AsyncClient,
) -> None:
    wanted = await _new_list(api, "vip")
    await api.post(f"{ROOT}/ProspectLists", json={"name": "vip", "list_type": "exempt"})
    await _new_list(api, "other")
    found = await api.post(
        f"{ROOT}/ProspectLists/filter",
        json={"filter": [{"name": {"$equals": "vip"}}, {"list_type": "default"}]},
    )
    assert [r["id"] for r in found.json()["records"]] == [wanted]
