"""Stable hashes of canonical data, so "did anything change?" is one comparison."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import time
from typing import Any

__all__ = ["digest", "new_hub_id"]


def digest(data: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def new_hub_id() -> str:
    """A 32-hex-digit id that sorts by creation time: milliseconds, then 80 bits of sequence.

    The customer, link and identifier tables are indexed on hub ids. Random ids
    (uuid4) put every insert on a random page of those indexes, which stops
    fitting in the cache once a store holds a few hundred thousand customers;
    time-ordered ones append.

    The 80 low bits are a random seed drawn once per process (and again in a
    forked child) plus a counter, not 80 fresh random bits per id: drawing
    those from the OS cost ~10 µs, a thirtieth of a first pull's time per
    record. Ids stay unique within a process (the counter), and apart across
    processes and machines (two 80-bit random seeds whose runs of ids would
    have to overlap, in the same millisecond). They are not guessable from
    outside, though one id tells its process's next ones: hub ids name
    records, they grant nothing.
    """
    low = (_SEQUENCE.seed + next(_SEQUENCE.counter)) & _LOW
    return f"{time.time_ns() // 1_000_000:012x}{low:020x}"


_LOW = (1 << 80) - 1


class _Sequence:
    """This process's seed and counter; ``next`` on an :class:`itertools.count` is atomic."""

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.seed = secrets.randbits(80)
        self.counter = itertools.count()


_SEQUENCE = _Sequence()
os.register_at_fork(after_in_child=_SEQUENCE.reseed)  # a child must not repeat its parent's ids
