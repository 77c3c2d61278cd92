from __future__ import annotations

import asyncio

import pytest

from hub.http import SystemClock, VirtualClock

pytestmark = pytest.mark.anyio


async def test_sleep_moves_time_without_waiting(clock: VirtualClock) -> None:
    started = asyncio.get_running_loop().time()
    await clock.sleep(3600)
    assert clock.monotonic() == 3600
    assert asyncio.get_running_loop().time() - started < 1
    assert clock.sleeps == [3600]


async def test_concurrent_sleepers_share_one_timeline(clock: VirtualClock) -> None:
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    await asyncio.gather(sleeper("late", 5), sleeper("early", 2), sleeper("middle", 3))
    assert woke == [("early", 2), ("middle", 3), ("late", 5)]
    assert clock.monotonic() == 5  # not 2 + 3 + 5: the sleeps overlapped


async def test_cancelled_sleeper_does_not_move_time(clock: VirtualClock) -> None:
    doomed = asyncio.create_task(clock.sleep(100))
    await asyncio.sleep(0)
    doomed.cancel()
    await clock.sleep(1)
    assert clock.monotonic() == 1


async def test_wall_time_follows_virtual_time() -> None:
    clock = VirtualClock(epoch=1_000.0)
    await clock.sleep(2.5)
    assert clock.time() == 1_002.5


async def test_system_clock_really_sleeps() -> None:
    clock = SystemClock()
    before = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - before >= 0.005
    assert clock.time() > 1e9
