"""A field edited in two systems within the skew window waits for a person.

The shop and the CRM both hold Ann. Both change her last name within the
clock-skew window: the rules cannot say which edit came last, so the field is
held. Neither system's value is written over the other's, nor into the
newsletter tool, while the rest of her record still travels. Once a person
settles the conflict, the chosen value reaches every system; a later edit the
rules can order settles it too.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from hub.engine.held import keep_remote
from hub.engine.review import resolve_conflict
from hub.store.database import Store
from hub.store.tables import Conflict
from tests.hub.engine.remote import RemoteSystem
from tests.hub.engine.test_convergence_properties import HELD, SYSTEMS, World

pytestmark = pytest.mark.anyio
EMAIL = "ann@example.com"


async def _concurrent_edits(store: Store) -> tuple[World, str, str]:
    """Ann synced everywhere, then her last name changed in the shop and the CRM a minute apart."""
    world = World(store)
    shop, crm = world.systems["shop"], world.systems["crm"]
    in_shop = shop.create({"emails": [EMAIL], "first_name": "Ann", "last_name": "Lee"})
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))
    [in_crm] = crm.by_email(EMAIL)
    world.clock.tick()
    shop.edit(in_shop, last_name="Lee-Ray")
    world.clock.tick(1)
    crm.edit(in_crm, last_name="Ray", phones=["+34611000001"])
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))
    return world, in_shop, in_crm


def _open(store: Store) -> list[Conflict]:
    with store.session() as session:
        return list(session.exec(select(Conflict).where(Conflict.status == "open")))


def _last_names(world: World, in_shop: str, in_crm: str) -> tuple[object, object]:
    return world.systems["shop"].rows[in_shop]["last_name"], world.systems["crm"].rows[in_crm][
        "last_name"
    ]


async def test_a_concurrent_edit_is_held_and_each_system_keeps_its_value(store: Store) -> None:
    world, in_shop, in_crm = await _concurrent_edits(store)

    [conflict] = _open(store)
    assert (conflict.kind, conflict.field) == ("field", "last_name")
    assert _last_names(world, in_shop, in_crm) == ("Lee-Ray", "Ray")
    assert world.systems["shop"].rows[in_shop]["phones"] == ["+34611000001"]  # the rest travels
    assert await world.sync_pass(list(SYSTEMS), list(SYSTEMS)) == 0  # and nothing ping-pongs
    assert _last_names(world, in_shop, in_crm) == ("Lee-Ray", "Ray")


async def test_the_chosen_value_reaches_every_system_after_resolution(store: Store) -> None:
    world, in_shop, in_crm = await _concurrent_edits(store)
    [conflict] = _open(store)

    with store.session() as session:
        resolve_conflict(session, conflict.id or 0, take="shop", targets=SYSTEMS)
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))

    assert _last_names(world, in_shop, in_crm) == ("Lee-Ray", "Lee-Ray")
    assert await world.sync_pass(list(SYSTEMS), list(SYSTEMS)) == 0


async def test_an_explicit_value_replaces_both_edits(store: Store) -> None:
    world, in_shop, in_crm = await _concurrent_edits(store)
    [conflict] = _open(store)

    with store.session() as session:
        resolve_conflict(session, conflict.id or 0, value="Lee Ray", targets=SYSTEMS)
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))

    assert _last_names(world, in_shop, in_crm) == ("Lee Ray", "Lee Ray")


async def test_dismissal_keeps_the_hubs_value_and_writes_it_everywhere(store: Store) -> None:
    world, in_shop, in_crm = await _concurrent_edits(store)
    [conflict] = _open(store)
    kept = conflict.candidates["kept"]["value"]

    with store.session() as session:
        resolve_conflict(session, conflict.id or 0, dismiss=True, targets=SYSTEMS)
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))

    assert _last_names(world, in_shop, in_crm) == (kept, kept)


async def test_a_later_ordered_edit_supersedes_the_conflict(store: Store) -> None:
    world, in_shop, in_crm = await _concurrent_edits(store)

    world.clock.tick()  # an hour later: clearly the newest edit
    world.systems["crm"].edit(in_crm, last_name="Ray-Lee")
    await world.sync_pass(list(SYSTEMS), list(SYSTEMS))

    assert _last_names(world, in_shop, in_crm) == ("Ray-Lee", "Ray-Lee")
    assert _open(store) == []
    with store.session() as session:
        [conflict] = session.exec(select(Conflict)).all()
    assert (conflict.status, conflict.resolution) == ("superseded", {"superseded_by": "crm"})


async def test_a_system_new_to_the_person_gets_the_hubs_value_while_it_is_held(
    store: Store,
) -> None:
    """Its new record overwrites nobody's edit, and a vendor may require the field."""
    world = World(store)
    shop, crm = world.systems["shop"], world.systems["crm"]
    news = world.systems["news"] = RemoteSystem(
        "news", held=HELD["news"] | {"last_name"}, clock=world.clock
    )
    in_shop = shop.create({"emails": [EMAIL], "first_name": "Ann", "last_name": "Lee"})
    await world.sync_pass(list(SYSTEMS), ["shop", "crm"])  # not to the newsletter yet
    [in_crm] = crm.by_email(EMAIL)
    world.clock.tick()
    shop.edit(in_shop, last_name="Lee-Ray")
    world.clock.tick(1)
    crm.edit(in_crm, last_name="Ray")
    await world.sync_pass(list(SYSTEMS), ["shop", "crm"])
    [conflict] = _open(store)

    await world.sync_pass([], ["news"])

    [in_news] = news.by_email(EMAIL)
    assert news.rows[in_news]["last_name"] == conflict.candidates["kept"]["value"]
    assert _last_names(world, in_shop, in_crm) == ("Lee-Ray", "Ray")


@pytest.mark.parametrize(
    ("target", "remote", "path", "expected"),
    [
        ({"last_name": "Hub"}, {"last_name": "Remote"}, "last_name", {"last_name": "Remote"}),
        ({"last_name": "Hub", "x": 1}, {}, "last_name", {"x": 1}),
        (
            {"attributes": {"tier": "gold", "size": "m"}},
            {"attributes": {"tier": "silver"}},
            "attributes.tier",
            {"attributes": {"tier": "silver", "size": "m"}},
        ),
        ({"attributes": {"tier": "gold"}}, {}, "attributes.tier", {}),
    ],
)
def test_keep_remote_puts_back_what_the_remote_holds(
    target: dict[str, object], remote: dict[str, object], path: str, expected: dict[str, object]
) -> None:
    keep_remote(target, remote, path)
    assert target == expected
