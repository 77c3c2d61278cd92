"""Stable hashes of canonical data, so "did anything change?" is one comparison."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

__all__ = ["digest", "new_hub_id"]


def digest(data: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def new_hub_id() -> str:
    return uuid.uuid4().hex
