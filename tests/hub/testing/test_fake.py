"""Fake people: the same seed gives the same people, in any process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path

import phonenumbers
import pytest

from hub.testing.fake import fake_people, fake_phone

ROOT = Path(__file__).parents[3]
PRINT = """
from dataclasses import astuple
from hub.testing.fake import fake_people
print([tuple(map(str, astuple(person))) for person in fake_people(60, seed=4)])
"""


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_another_process_with_another_hash_seed_makes_the_same_people(hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    printed = subprocess.run(
        [sys.executable, "-c", PRINT], env=env, capture_output=True, text=True, check=True
    ).stdout
    here = [tuple(map(str, astuple(person))) for person in fake_people(60, seed=4)]
    assert printed.strip() == str(here)


# People numbered across 1..3,000,000 (every 997th, plus each side of the GB boundary):
# phonenumbers takes ~20 us a number, so every number of a million-person crowd would be slow.
NUMBERS = sorted({*range(1, 3_000_000, 997), 199_999, 200_000, 200_001, 999_999, 1_000_000})


@pytest.mark.parametrize("country", ["ES", "GB", "DE", "FR", "IT"])
def test_every_fake_phone_is_a_valid_number_at_any_crowd_size(country: str) -> None:
    """A sync refuses a record whose phone is not valid: a crowd of 1,000,000 lost 100,000."""
    invalid = [
        number
        for number in NUMBERS
        if not phonenumbers.is_valid_number(phonenumbers.parse(fake_phone(country, number)))
    ]
    assert invalid == []


def test_fake_phones_are_unique_per_country_across_a_million_people() -> None:
    for country in ("ES", "GB", "DE", "FR", "IT"):
        phones = {fake_phone(country, number) for number in range(1, 1_000_001, 5)}
        assert len(phones) == 200_000


def test_the_first_200000_people_keep_their_numbers() -> None:
    """Tests and samples are built on the small crowds: their phones did not move."""
    assert fake_phone("GB", 1) == "+447700000001"
    assert fake_phone("GB", 199_996) == "+447700199996"
    assert next(iter(fake_people(1, seed=4))).phone == "+447700000001"
