"""Fake people: the same seed gives the same people, in any process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path

import pytest

from hub.testing.fake import fake_people

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
