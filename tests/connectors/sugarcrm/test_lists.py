"""Segment memberships as Sugar Target List members: the rendering and the writer's cases."""

from __future__ import annotations

import asyncio

import pytest

from connectors.sugarcrm.lists import membership_to_sugar
from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.sugarcrm.sandbox_lists import TARGET_LISTS
from hub.connector import Change, WriteResult
from hub.http import VirtualClock
from hub.model import Customer, SegmentMembership
from tests.connectors.sugarcrm.test_kit import sugar_connector

ANN = Customer(first_name="Ann", emails=["ann@example.com"])


def _joins(segment: str, ref: str | None, member: bool = True) -> SegmentMembership:
    return SegmentMembership(segment=segment, member=member, customer=ANN, customer_ref=ref)


@pytest.mark.parametrize(
    ("membership", "held"),
    [
        (_joins("vip", "c1"), {"target_list": "vip", "member": True}),
        (_joins("win_back", None, member=False), {"target_list": "win_back", "member": False}),
    ],
)
def test_a_membership_renders_as_the_list_and_whether_the_contact_is_on_it(
    membership: SegmentMembership, held: dict[str, object]
) -> None:
    """The contact id is not part of it: a change of it alone is no change of membership."""
    assert membership_to_sugar(membership) == held


def _write(sandbox: SugarSandbox, changes: list[Change]) -> list[WriteResult]:
    async def run() -> list[WriteResult]:
        connector = sugar_connector(sandbox)
        try:
            return await connector.write("segment_members", changes)
        finally:
            await connector.aclose()

    return asyncio.run(run())


def _sandbox() -> tuple[SugarSandbox, list[str]]:
    sandbox = SugarSandbox(clock=VirtualClock())
    sandbox.populate(4, seed=5)
    return sandbox, sorted(sandbox.modules["Contacts"])


def test_a_person_without_a_sugar_contact_gets_a_clear_error_and_the_batch_goes_on() -> None:
    sandbox, (ann, *_) = _sandbox()
    results = _write(sandbox, [Change("h0", _joins("vip", None)), Change("h1", _joins("vip", ann))])
    assert results[0].external_id is None and "no Sugar contact" in (results[0].error or "")
    assert results[1] == WriteResult("h1", ann)
    assert sandbox.relations.contacts_on("vip") == {ann}


def test_an_id_that_is_no_contact_is_refused_per_record_in_sugars_words() -> None:
    sandbox, (ann, *_) = _sandbox()
    lead = sorted(sandbox.modules["Leads"])[0]  # the hub may link a person to a lead
    results = _write(sandbox, [Change("h0", _joins("vip", lead)), Change("h1", _joins("vip", ann))])
    assert "target list 'vip'" in (results[0].error or "")
    assert "Could not find the related bean" in (results[0].error or "")
    assert results[1].ok and sandbox.relations.contacts_on("vip") == {ann}


def test_an_existing_default_list_of_that_name_is_used_and_looked_up_once() -> None:
    sandbox, (ann, bob, *_) = _sandbox()
    mine = sandbox.add_target_list("vip")["id"]
    sandbox.add_target_list("vip", "exempt")  # a suppression list of the same name
    _write(sandbox, [Change("h0", _joins("vip", ann)), Change("h1", _joins("vip", bob))])
    assert {c["id"] for c in sandbox.relations.related(TARGET_LISTS, mine, "contacts")} == {
        ann,
        bob,
    }
    lookups = [r for r in sandbox.requests if r.path.endswith(f"{TARGET_LISTS}/filter")]
    assert len(lookups) == 1 and len(sandbox.modules[TARGET_LISTS]) == 2


def test_a_leave_takes_off_the_contact_the_hub_added_even_if_the_link_moved() -> None:
    sandbox, (ann, bob, *_) = _sandbox()
    _write(sandbox, [Change("h0", _joins("vip", ann))])
    leave = Change("h0", _joins("vip", bob, member=False), external_id=ann)
    assert _write(sandbox, [leave]) == [WriteResult("h0", ann)]
    assert sandbox.relations.contacts_on("vip") == set()


@pytest.mark.parametrize("deleted", ["Contacts", TARGET_LISTS])
def test_a_leave_of_a_contact_or_from_a_list_deleted_in_sugar_is_done(deleted: str) -> None:
    sandbox, (ann, bob, *_) = _sandbox()
    _write(sandbox, [Change("h0", _joins("vip", ann)), Change("h1", _joins("vip", bob))])
    (target,) = sandbox.modules[TARGET_LISTS]
    del sandbox.modules[deleted][ann if deleted == "Contacts" else target]
    leave = Change("h0", _joins("vip", ann, member=False), external_id=ann)
    assert _write(sandbox, [leave]) == [WriteResult("h0", ann)]
