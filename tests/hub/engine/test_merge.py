"""The per-field three-way merge, decision by decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.engine.merge import MergeRules, Provenance, combine_customers, merge_customer

T0 = datetime(2024, 1, 1, tzinfo=UTC)
RULES = MergeRules(source_priority=("shop", "crm"), skew=timedelta(minutes=5))


def _merge(
    current: dict[str, Any],
    base: dict[str, Any],
    incoming: dict[str, Any],
    *,
    source: str = "crm",
    at: datetime = T0,
    held: dict[str, Provenance] | None = None,
    rules: MergeRules = RULES,
) -> Any:
    return merge_customer(
        current, base, incoming, source=source, observed_at=at, provenance=held or {}, rules=rules
    )


def test_a_field_the_source_did_not_change_never_overwrites() -> None:
    out = _merge(
        {"last_name": "Smith-Jones"},
        {"last_name": "Smith"},
        {"last_name": "Smith"},
        held={"last_name": Provenance("newsletter", T0)},
    )
    assert out.data == {"last_name": "Smith-Jones"} and out.changed == []


def test_a_change_to_a_value_this_source_set_is_taken() -> None:
    out = _merge(
        {"last_name": "Smith"},
        {"last_name": "Smith"},
        {"last_name": "Jones"},
        held={"last_name": Provenance("crm", T0)},
    )
    assert out.data["last_name"] == "Jones" and out.provenance["last_name"].source == "crm"


def test_priority_decides_between_ranked_sources() -> None:
    held = {"first_name": Provenance("shop", T0)}
    lower = _merge(
        {"first_name": "Ann"},
        {},
        {"first_name": "Anne"},
        source="crm",
        at=T0 + timedelta(days=9),
        held=held,
    )
    assert lower.data["first_name"] == "Ann" and lower.conflicts == []
    higher = _merge(
        {"first_name": "Anne"},
        {},
        {"first_name": "Ann"},
        source="shop",
        held={"first_name": Provenance("crm", T0 + timedelta(days=9))},
    )
    assert higher.data["first_name"] == "Ann"


def test_equal_rank_is_last_writer_wins_outside_the_skew() -> None:
    held = {"note": Provenance("newsletter", T0)}
    later = _merge(
        {"note": "a"}, {}, {"note": "b"}, source="ads", at=T0 + timedelta(hours=1), held=held
    )
    assert later.data["note"] == "b" and later.conflicts == []
    older = _merge(
        {"note": "a"}, {}, {"note": "b"}, source="ads", at=T0 - timedelta(hours=1), held=held
    )
    assert older.data["note"] == "a" and older.conflicts == []


def test_within_the_skew_a_conflict_is_filed_with_an_order_free_winner() -> None:
    one = _merge(
        {"note": "a"},
        {},
        {"note": "b"},
        source="ads",
        at=T0 + timedelta(minutes=1),
        held={"note": Provenance("newsletter", T0)},
    )
    other = _merge(
        {"note": "b"},
        {},
        {"note": "a"},
        source="newsletter",
        at=T0,
        held={"note": Provenance("ads", T0 + timedelta(minutes=1))},
    )
    assert one.data["note"] == other.data["note"] == "b"
    assert [c.field for c in one.conflicts] == ["note"] == [c.field for c in other.conflicts]


def test_sets_add_what_the_source_added_and_remove_what_it_removed() -> None:
    out = _merge({"tags": ["b2b", "vip"]}, {"tags": ["vip"]}, {"tags": ["new"]})
    assert out.data["tags"] == ["b2b", "new"]


def test_an_address_without_a_kind_is_the_hubs_address_at_that_place() -> None:
    home = {"line1": "Calle Mayor 1", "city": "Madrid", "country": "ES"}
    billing = {"kind": "billing", **home}
    kept = _merge({"addresses": [billing]}, {}, {"addresses": [home]})
    assert kept.data["addresses"] == [billing]  # a system that keeps no kind adds no copy
    moved = {**home, "line1": "Calle Nueva 2"}
    out = _merge({"addresses": [billing]}, {"addresses": [home]}, {"addresses": [moved]})
    assert out.data["addresses"] == [moved]  # its base named the same place: it moved
    shipping = {"kind": "shipping", **home}
    both = _merge({}, {}, {"addresses": [billing, shipping]}, source="shop")
    assert both.data["addresses"] == [billing, shipping]  # a shop's two kinds stay two


def test_opt_out_dominates_a_stale_opt_in() -> None:
    current = {
        "consents": {
            "email": {
                "status": "subscribed",
                "source": "shop",
                "recorded_at": "2024-01-01T00:00:00+00:00",
            }
        }
    }
    opt_out = {
        "status": "unsubscribed",
        "source": "mail",
        "recorded_at": "2023-06-01T00:00:00+00:00",
    }
    out = _merge(current, {}, {"consents": {"email": opt_out}}, source="mail")
    assert out.data["consents"]["email"]["status"] == "subscribed"  # the opt-in is clearly later
    fresh = {**opt_out, "recorded_at": "2024-02-01T00:00:00+00:00"}
    assert (
        _merge(current, {}, {"consents": {"email": fresh}}, source="mail").data["consents"]["email"]
        == fresh
    )


def test_concurrent_opt_in_and_opt_out_is_opted_out_and_reviewed() -> None:
    current = {
        "consents": {
            "email": {
                "status": "unsubscribed",
                "source": "mail",
                "recorded_at": "2024-01-01T00:00:00+00:00",
            }
        }
    }
    opt_in = {"status": "subscribed", "source": "shop", "recorded_at": "2024-01-01T00:02:00+00:00"}
    out = _merge(current, {}, {"consents": {"email": opt_in}}, source="shop")
    assert out.data["consents"]["email"]["status"] == "unsubscribed"
    assert [c.field for c in out.conflicts] == ["consents.email"]


def test_an_undated_opt_in_never_overrides_an_opt_out() -> None:
    current = {
        "consents": {
            "email": {
                "status": "unsubscribed",
                "source": "mail",
                "recorded_at": "2024-01-01T00:00:00+00:00",
            }
        }
    }
    out = _merge(current, {}, {"consents": {"email": {"status": "subscribed", "source": "shop"}}})
    assert out.data["consents"]["email"]["status"] == "unsubscribed"


def test_owner_policy_ignores_other_sources() -> None:
    rules = MergeRules(policies={"note": "owner"}, owners={"note": "crm"})
    assert _merge({"note": "x"}, {}, {"note": "y"}, source="shop", rules=rules).data == {
        "note": "x"
    }
    assert _merge({"note": "x"}, {}, {"note": "y"}, source="crm", rules=rules).data == {"note": "y"}


def test_acquisition_and_created_at_keep_the_first() -> None:
    out = _merge(
        {"acquisition": {"source": "instagram"}, "created_at": "2022-01-01T00:00:00+00:00"},
        {},
        {"acquisition": {"source": "google"}, "created_at": "2023-01-01T00:00:00+00:00"},
    )
    assert out.data["acquisition"] == {"source": "instagram"}
    assert out.data["created_at"] == "2022-01-01T00:00:00+00:00"


def test_combining_two_records_loses_nothing() -> None:
    keep = {"first_name": "Ann", "emails": ["a@x.com"], "identifiers": {"n": "1"}}
    gone = {
        "first_name": "Anne",
        "last_name": "Smith",
        "emails": ["b@x.com"],
        "identifiers": {"t": "9"},
        "consents": {"email": {"status": "unsubscribed"}},
    }
    data, _ = combine_customers(keep, gone, rules=RULES)
    assert data == {
        "first_name": "Ann",
        "last_name": "Smith",
        "emails": ["a@x.com", "b@x.com"],
        "identifiers": {"n": "1", "t": "9"},
        "consents": {"email": {"status": "unsubscribed"}},
    }
