"""The hub's own write, read back from a system, is no claim of that system's own.

A system that holds a value because the hub wrote it there did not change it:
its record's ``updated_at`` says when it stored the hub's write, not when
anyone chose that value. When the source that gave the hub its primary phone
names another one, that echo must not outrank the edit, and whether the echo
was read back before the edit or after it must not matter.
"""

from __future__ import annotations

import pytest

from hub.store.database import Store
from tests.hub.engine.test_convergence_properties import SYSTEMS, World

pytestmark = pytest.mark.anyio

OLD, NEW = "+34611000001", "+34611000002"


@pytest.mark.parametrize(
    "pulls",
    [("shop", "crm", "news"), ("crm", "shop", "news")],
    ids=["echo_read_before_the_edit", "edit_read_before_the_echo"],
)
async def test_a_primary_phone_changed_while_the_hub_wrote_the_old_one_elsewhere_wins(
    store: Store, pulls: tuple[str, ...]
) -> None:
    world = World(store)
    shop, crm = world.systems["shop"], world.systems["crm"]
    world.clock.tick()
    ann_in_crm = crm.create({"emails": ["p0@example.com"], "first_name": "Ann", "phones": [OLD]})
    for name in SYSTEMS:
        await world.pull(name)
    world.clock.tick(1)  # the CRM's user edits the phone while the pass runs, after its pull
    crm.edit(ann_in_crm, phones=[NEW])
    world.clock.tick(1)
    for name in SYSTEMS:  # the shop stores the hub's (old) phone after the edit was made
        await world.push(name)
    [ann_in_shop] = shop.by_email("p0@example.com")
    assert shop.rows[ann_in_shop]["phones"] == [OLD]
    assert shop.rows[ann_in_shop]["updated_at"] > crm.rows[ann_in_crm]["updated_at"]

    await world.sync_pass(list(pulls), list(SYSTEMS))
    customers, _ = world.hub()
    [ann] = customers.values()
    assert ann["phones"][0] == NEW  # the newer edit is the primary phone, in any pull order
    assert crm.rows[ann_in_crm]["phones"][0] == NEW
    assert shop.rows[ann_in_shop]["phones"][0] == NEW

    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))  # reads back what was written
    assert await world.sync_pass(list(SYSTEMS), list(SYSTEMS)) == 0
