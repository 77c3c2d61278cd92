"""Stable hashes of canonical data, so "did anything change?" is one comparison."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

__all__ = ["digest", "new_hub_id"]


def digest(data: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def new_hub_id() -> str:
    """A 32-hex-digit id that sorts by creation time: milliseconds, then 80 random bits.

    The customer, link and identifier tables are indexed on hub ids. Random ids
    (uuid4) put every insert on a random page of those indexes, which stops
    fitting in the cache once a store holds a few hundred thousand customers;
    time-ordered ones append. 80 random bits keep ids made in the same
    millisecond, on several machines, apart.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
