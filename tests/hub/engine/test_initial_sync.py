"""The first push to a connection links, reports differences, and lets the policy decide.

The shop is synced first. Then a CRM is connected that already holds Ann with
an older last name and spelling of her first name, a phone the hub lacks, and
no tags: its pull links her (the hub keeps its newer values), and its first
push finds two differences. Whatever the policy, both are listed as conflicts
of kind ``initial``, the tags it lacks are filled, and nobody's value is
overwritten without a rule or a person saying so.
"""

from __future__ import annotations

from typing import Literal

import pytest
from sqlmodel import select

from hub.engine.review import resolve_conflict
from hub.store.database import Store
from hub.store.tables import Conflict, CustomerRow
from tests.hub.engine.test_convergence_properties import SYSTEMS, World

pytestmark = pytest.mark.anyio

Policy = Literal["hub", "remote", "review"]


async def _connect_crm(store: Store, policy: Policy) -> tuple[World, str, str]:
    world = World(store, initial_sync=policy)
    shop, crm = world.systems["shop"], world.systems["crm"]
    world.clock.tick()
    in_crm = crm.create(
        {"emails": ["p0@example.com"], "first_name": "ANN", "last_name": "Ray", "phones": []}
    )
    crm.edit(in_crm, phones=["+34611000001"])
    world.clock.tick()
    in_shop = shop.create(
        {"emails": ["p0@example.com"], "first_name": "Ann", "last_name": "Lee", "tags": ["vip"]}
    )
    await world.sync_pass(["shop"], ["shop"])
    await world.sync_pass(["crm"], ["crm"])
    return world, in_shop, in_crm


def _differences(store: Store) -> list[tuple[str | None, str, str]]:
    with store.session() as session:
        rows = session.exec(select(Conflict).where(Conflict.kind == "initial")).all()
    return sorted((c.field, c.status, c.candidates["other"]["value"]) for c in rows)


def _hub(store: Store) -> dict[str, object]:
    with store.session() as session:
        [row] = session.exec(select(CustomerRow)).all()
    return row.data


async def test_prefer_hub_writes_the_hubs_values_and_lists_what_it_overwrote(
    store: Store,
) -> None:
    world, _, in_crm = await _connect_crm(store, "hub")
    row = world.systems["crm"].rows[in_crm]
    assert (row["first_name"], row["last_name"], row["tags"]) == ("Ann", "Lee", ["vip"])
    assert row["phones"] == ["+34611000001"]  # its own phone came into the hub and stays
    assert _differences(store) == [
        ("first_name", "resolved", "ANN"),
        ("last_name", "resolved", "Ray"),
    ]


async def test_prefer_remote_takes_the_systems_values_to_the_hub_and_the_others(
    store: Store,
) -> None:
    world, in_shop, in_crm = await _connect_crm(store, "remote")
    row = world.systems["crm"].rows[in_crm]
    assert (row["first_name"], row["last_name"], row["tags"]) == ("ANN", "Ray", ["vip"])
    hub = _hub(store)
    assert (hub["first_name"], hub["last_name"]) == ("ANN", "Ray")
    await world.sync_pass([], ["shop"])
    assert world.systems["shop"].rows[in_shop]["last_name"] == "Ray"
    assert [d[1] for d in _differences(store)] == ["resolved", "resolved"]


async def test_prefer_review_changes_neither_side_until_a_person_decides(store: Store) -> None:
    world, in_shop, in_crm = await _connect_crm(store, "review")
    shop, crm = world.systems["shop"], world.systems["crm"]
    assert (crm.rows[in_crm]["last_name"], crm.rows[in_crm]["tags"]) == ("Ray", ["vip"])
    assert _hub(store)["last_name"] == "Lee"
    assert _differences(store) == [("first_name", "open", "ANN"), ("last_name", "open", "Ray")]

    world.clock.tick()  # a later change of the customer still leaves the held fields alone
    shop.edit(in_shop, tags=["vip", "b2b"])
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))
    assert crm.rows[in_crm]["tags"] == ["b2b", "vip"]
    assert (crm.rows[in_crm]["first_name"], crm.rows[in_crm]["last_name"]) == ("ANN", "Ray")

    with store.session() as session:
        open_ = {
            c.field: c.id for c in session.exec(select(Conflict).where(Conflict.kind == "initial"))
        }
        resolve_conflict(session, open_["last_name"], take="crm", targets=SYSTEMS)
    with store.session() as session:
        resolve_conflict(session, open_["first_name"], take="hub", targets=SYSTEMS)
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))
    assert (crm.rows[in_crm]["first_name"], crm.rows[in_crm]["last_name"]) == ("Ann", "Ray")
    assert shop.rows[in_shop]["last_name"] == "Ray"
    assert await world.sync_pass(list(SYSTEMS), list(SYSTEMS)) == 0
