"""Tier 3 scoring: what looks alike, and that pruning never hides a pair that would score."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.engine.candidates import _may_reach, score
from hub.engine.identity import CandidateRules

FIELDS = ("last_name", "first_name", "birth_date", "postcode")


def person(**fields: Any) -> dict[str, Any]:
    address = {k: fields.pop(k) for k in ("postcode", "city") if k in fields}
    return {**fields, **({"addresses": [address]} if address else {})}


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        (  # one person, a typo in the first name and an accent
            person(
                first_name="José", last_name="García", birth_date="1980-05-01", postcode="28001"
            ),
            person(
                first_name="Jose", last_name="Garcia", birth_date="1980-05-01", postcode="28001"
            ),
            1.0,
            1.0,
        ),
        (
            person(first_name="Jon", last_name="Smith", birth_date="1980-05-01"),
            person(first_name="John", last_name="Smith", birth_date="1980-05-01"),
            0.9,
            0.99,
        ),
        (  # same name, another birth date: a namesake
            person(
                first_name="John", last_name="Smith", birth_date="1980-05-01", postcode="LS1 4AB"
            ),
            person(
                first_name="John", last_name="Smith", birth_date="1975-11-30", postcode="M1 1AE"
            ),
            0.5,
            0.7,
        ),
    ],
)
def test_scores(a: dict[str, Any], b: dict[str, Any], low: float, high: float) -> None:
    total, per = score(a, b, FIELDS)
    assert low <= total <= high, per
    assert score(b, a, FIELDS)[0] == total


def test_a_last_name_alone_is_no_evidence() -> None:
    assert score(person(last_name="Smith"), person(last_name="Smith"), FIELDS) == (
        0.0,
        {"last_name": 1.0},
    )


names = st.sampled_from(["Ann", "Anne", "Ana", "Bob", "Rob", "José", "Jose", ""])
records = st.builds(
    lambda first, last, born, code: person(
        **{
            k: v
            for k, v in {
                "first_name": first,
                "last_name": last,
                "birth_date": born,
                "postcode": code,
            }.items()
            if v
        }
    ),
    names,
    st.sampled_from(["Lee", "Lee", "Leigh", "García", "Garcia"]),
    st.sampled_from(["", "1980-05-01", "1980-01-05"]),
    st.sampled_from(["", "28001", "28010", "LS1 4AB"]),
)


@settings(max_examples=500, deadline=None)
@given(
    a=records,
    b=records,
    fields=st.lists(st.sampled_from(FIELDS), min_size=1, unique=True),
    threshold=st.sampled_from([0.5, 0.8, 0.9, 1.0]),
)
def test_pruning_on_names_never_drops_a_pair_that_scores(
    a: dict[str, Any], b: dict[str, Any], fields: list[str], threshold: float
) -> None:
    rules = CandidateRules(fields=tuple(fields), review_above=threshold)
    if score(a, b, fields)[0] >= threshold:
        assert _may_reach(a, b, rules)
