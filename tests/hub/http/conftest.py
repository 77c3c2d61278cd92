"""Fixtures for the HTTP layer: a virtual clock and the copied vendor material."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.http import ApiClient, VirtualClock

VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def vendor_json() -> Callable[[str], Any]:
    """Load a file from tests/fixtures/vendor (see SOURCES.md there)."""

    def load(relative: str) -> Any:
        return json.loads((VENDOR / relative).read_text())

    return load


Handler = Callable[[httpx.Request], Any]


@pytest.fixture
async def make_client(clock: VirtualClock) -> AsyncIterator[Callable[..., ApiClient]]:
    """Build ApiClients for connection 'shop' over a MockTransport on the virtual clock."""
    made: list[ApiClient] = []

    def make(handler: Handler, **options: Any) -> ApiClient:
        options.setdefault("clock", clock)
        client = ApiClient(
            "https://shop.example/admin/api/2024-01/",
            connection="shop",
            transport=httpx.MockTransport(handler),
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def run_for(clock: VirtualClock) -> Callable[..., Awaitable[None]]:
    """Keep ``tasks`` workers calling ``call`` until ``seconds`` of virtual time have passed."""

    async def run(seconds: float, call: Callable[[], Awaitable[Any]], *, tasks: int = 1) -> None:
        async def worker() -> None:
            while clock.monotonic() < seconds:
                await call()

        await asyncio.gather(*(worker() for _ in range(tasks)))

    return run
