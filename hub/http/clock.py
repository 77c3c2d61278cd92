"""Time as a dependency, so rate limits and retries can be tested in virtual time.

Rate-limit tests need minutes of traffic; sleeping for real would make them slow
and flaky. Everything in ``hub.http`` that waits or reads the time goes through
a :class:`Clock`, and tests hand in a :class:`VirtualClock` whose sleeps return
at once while the clock jumps forward, in the same order real sleeps would end.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    """What the HTTP layer needs from time: a stopwatch, a calendar, a sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (to read HTTP-dates such as Retry-After)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``; zero or less still yields to other tasks."""
        ...


class SystemClock:
    """The real clock used in production."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class VirtualClock:
    """A clock that only moves when every task is waiting on it.

    A sleep parks the task; once the event loop has had ``settle`` turns to let
    every runnable task reach its own sleep, time jumps to the earliest wake-up
    and only those sleepers resume. So several tasks (clients and an emulated
    server) share one consistent timeline, as they would in real time. It
    assumes all waiting goes through this clock: a task blocked on real I/O
    would see time jump past it.
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0, settle: int = 25):
        self._now = start
        self._epoch = epoch - start
        self._settle = settle
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None
        self.sleeps: list[float] = []
        """Every requested sleep, in order: tests assert on back-off schedules with it."""

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._epoch + self._now

    async def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.sleeps.append(seconds)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        due = self._now + seconds
        if seconds > 0:  # a wait too small to change a float would otherwise never end
            due = max(due, math.nextafter(self._now, math.inf))
        heapq.heappush(self._sleepers, (due, next(self._order), wake))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive())
        await wake

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(self._settle):
                await asyncio.sleep(0)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # cancelled: must not move time
            if not self._sleepers:
                return
            due = self._sleepers[0][0]
            self._now = max(self._now, due)
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, wake = heapq.heappop(self._sleepers)
                if not wake.done():
                    wake.set_result(None)
