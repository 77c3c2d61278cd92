"""Fixtures for the HTTP layer: a virtual clock and the copied vendor material."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.http import VirtualClock

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def vendor_json() -> Callable[[str], Any]:
    """Load a file from tests/fixtures/vendor (see SOURCES.md there)."""

    def load(relative: str) -> Any:
        return json.loads((VENDOR / relative).read_text())

    return load
