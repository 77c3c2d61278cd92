"""What a push compares: the fields a connection holds, down to keys of an object field."""

from __future__ import annotations

from hub.engine.push import project

DATA = {
    "first_name": "Ann",
    "updated_at": "2026-12-01T00:00:00+00:00",
    "recommendations": {"next_best_product": "stove", "affinity": "camping"},
}


def test_a_dotted_field_keeps_only_that_key_and_volatile_fields_never_count() -> None:
    held = frozenset({"first_name", "recommendations.next_best_product"})
    assert project(DATA, held) == {
        "first_name": "Ann",
        "recommendations": {"next_best_product": "stove"},
    }


def test_an_object_without_a_held_key_is_left_out_and_none_holds_everything() -> None:
    assert project(DATA, frozenset({"first_name", "recommendations.up_sell"})) == {
        "first_name": "Ann"
    }
    assert project(DATA, None) == {key: v for key, v in DATA.items() if key != "updated_at"}
