"""Address identity: one place is one address, merged part by part (hub/engine/places.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.engine.merge import MergeRules, Provenance, merge_customer
from hub.engine.places import contested, fold, place_key
from hub.store.database import Store
from tests.hub.engine.fakes import ListConnector, customers, pull

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SHOP = {
    "company": "Acme SL",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postcode": "28013",
    "country": "ES",
}
POSTAL = {k: v for k, v in SHOP.items() if k != "company"}  # a merge field without company


def _merge(
    current: dict[str, Any],
    base: dict[str, Any],
    incoming: dict[str, Any],
    *,
    source: str = "news",
    at: datetime = T0,
    others: list[tuple[Provenance, dict[str, Any]]] | None = None,
    rules: MergeRules | None = None,
) -> Any:
    return merge_customer(
        current,
        base,
        incoming,
        source=source,
        observed_at=at,
        provenance={},
        rules=rules or MergeRules(),
        others=others or [],
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (SHOP, POSTAL, True),
        (SHOP, {**POSTAL, "line1": " calle  MAYOR, 1 "}, True),
        ({**SHOP, "postcode": "W05 9QN"}, {**SHOP, "postcode": "w059qn"}, True),
        (SHOP, {**SHOP, "city": "Madrid Centro", "line2": "3º"}, True),
        (SHOP, {**SHOP, "line1": "Calle Mayor 2"}, False),
        (SHOP, {**SHOP, "postcode": "28014"}, False),
        (SHOP, {**SHOP, "country": "PT"}, False),
        ({**SHOP, "kind": "billing"}, {**SHOP, "kind": "shipping"}, False),
        ({"city": "Madrid", "country": "ES"}, {"city": "Getafe", "country": "ES"}, False),
    ],
)
def test_a_place_is_its_normalised_first_line_postcode_country_and_kind(
    a: dict[str, Any], b: dict[str, Any], same: bool
) -> None:
    assert (place_key(a) == place_key(b)) is same


def test_two_copies_of_one_place_fold_into_one_that_keeps_every_part() -> None:
    assert list(fold([POSTAL, SHOP]).values()) == [{**POSTAL, "company": "Acme SL"}]


def test_the_same_place_without_a_part_merges_into_the_hubs_address() -> None:
    out = _merge({"addresses": [SHOP]}, {}, {"addresses": [POSTAL]})
    assert out.data["addresses"] == [SHOP] and out.changed == []
    # A part the source changed since its base is taken (a new spelling of the same line
    # too); the part it never carried stays.
    spelt = {**POSTAL, "line1": "calle mayor 1"}
    respelled = _merge({"addresses": [SHOP]}, {}, {"addresses": [spelt]})
    assert respelled.data["addresses"] == [{**SHOP, "line1": "calle mayor 1"}]
    edited = _merge(
        {"addresses": [SHOP]},
        {"addresses": [POSTAL]},
        {"addresses": [{**POSTAL, "line2": "3º izq."}]},
    )
    assert edited.data["addresses"] == [{**SHOP, "line2": "3º izq."}]


def test_a_part_the_source_removed_since_its_base_is_removed() -> None:
    held = {**SHOP, "line2": "3º izq."}
    out = _merge({"addresses": [held]}, {"addresses": [held]}, {"addresses": [SHOP]}, source="shop")
    assert out.data["addresses"] == [SHOP]


def test_a_moved_address_is_a_new_place() -> None:
    moved = {**POSTAL, "line1": "Calle Nueva 2", "postcode": "28014"}
    out = _merge({"addresses": [SHOP]}, {"addresses": [POSTAL]}, {"addresses": [moved]})
    assert out.data["addresses"] == [moved]


def test_a_source_removing_its_address_removes_it() -> None:
    out = _merge({"addresses": [SHOP]}, {"addresses": [SHOP]}, {}, source="shop")
    assert "addresses" not in out.data
    # ... unless another source still holds that place (add wins), in its own spelling.
    others = [(Provenance("news", T0), {"addresses": [POSTAL]})]
    kept = _merge({"addresses": [SHOP]}, {"addresses": [SHOP]}, {}, source="shop", others=others)
    assert kept.data["addresses"] == [SHOP]


def test_billing_and_shipping_at_one_place_stay_two() -> None:
    billing, shipping = {**SHOP, "kind": "billing"}, {**SHOP, "kind": "shipping"}
    both = _merge({}, {}, {"addresses": [billing, shipping]}, source="shop")
    assert both.data["addresses"] == [billing, shipping]
    # A system that keeps no kind names the hub's (first) address there: no third copy.
    out = _merge(both.data, {}, {"addresses": [POSTAL]})
    assert out.data["addresses"] == [billing, shipping] and out.changed == []


def test_an_address_without_a_first_line_is_known_by_all_its_parts() -> None:
    town = {"city": "Madrid", "country": "ES"}
    out = _merge({"addresses": [{**town, "kind": "billing"}]}, {}, {"addresses": [town]})
    assert out.data["addresses"] == [{**town, "kind": "billing"}]  # the hub's, kind and all
    other = _merge(out.data, {}, {"addresses": [{**town, "city": "Getafe"}]})
    assert len(other.data["addresses"]) == 2  # nothing says Getafe is the same place


def test_a_contested_part_goes_to_the_strongest_claim_and_is_only_then_read() -> None:
    current, news = {"addresses": [SHOP]}, {"addresses": [{**POSTAL, "city": "Madrid Centro"}]}
    assert contested(current, {}, news)
    assert not contested(current, {}, {"addresses": [POSTAL]})  # nothing to weigh: no query
    shop = [(Provenance("shop", T0), {"addresses": [SHOP]})]
    ranked = MergeRules(source_priority=("shop",))
    later = T0 + timedelta(hours=1)
    kept = _merge(current, {}, news, at=later, others=shop, rules=ranked)
    assert kept.data["addresses"] == [SHOP]
    taken = _merge(current, {}, news, at=later, others=shop)  # equal rank: the later edit
    assert taken.data["addresses"] == [{**SHOP, "city": "Madrid Centro"}]


@pytest.mark.parametrize("priority", [("shop",), ()])
def test_any_order_of_pulls_gives_one_address_with_every_part(
    store: Store, priority: tuple[str, ...]
) -> None:
    """Through the store: Ann's systems sync shop first, Bob's newsletter first; same outcome."""

    def records(person: str) -> dict[str, dict[str, Any]]:
        who = {"emails": [f"{person}@example.com"], "first_name": person.title()}
        return {
            "shop": {"id": person, **who, "addresses": [SHOP], "updated_at": T0.isoformat()},
            "news": {
                "id": person,
                **who,
                "addresses": [{**POSTAL, "line1": "calle mayor, 1", "city": "Madrid Centro"}],
                "updated_at": (T0 + timedelta(hours=1)).isoformat(),
            },
        }

    rules = MergeRules(source_priority=priority)
    ann, bob = records("ann"), records("bob")
    for name, record in [
        ("shop", ann["shop"]),
        ("news", bob["news"]),
        ("news", ann["news"]),
        ("shop", bob["shop"]),
    ]:
        asyncio.run(pull(store, ListConnector(name, [record]), merge=rules, full=True))
    city, line1 = ("Madrid", "Calle Mayor 1") if priority else ("Madrid Centro", "calle mayor, 1")
    expected = [{**SHOP, "city": city, "line1": line1}]
    assert [c["addresses"] for c in customers(store)] == [expected, expected]
