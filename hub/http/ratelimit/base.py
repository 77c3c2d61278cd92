"""The limiter contract: ask before sending, report what the vendor said after.

Every limiter keeps a local model of the vendor's budget so that it can wait
*before* a request instead of learning from a 429, and corrects the model from
the vendor's headers or body after each response. Waiting happens under one
FIFO lock, so concurrent tasks of a connection are served in order and none
jumps a queue the others are sleeping in; each response wakes the waiter to
look again, since news (a refund, a new window) can shorten its wait.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import httpx

from hub.http.clock import Clock, SystemClock

__all__ = ["Permit", "RateLimiter"]

# A sleep until t can end a float rounding before t, and a wait of a few
# nanoseconds may not move a clock at all. Sleeping at least this long keeps
# the loop from spinning; the budget is always judged at the real present, so
# a request is never sent early, not even by a microsecond.
_MIN_SLEEP = 1e-6


@dataclass(frozen=True, slots=True)
class Permit:
    """What :meth:`RateLimiter.acquire` granted: the cost taken and when.

    ``sent_at`` bounds how stale a budget reported in the response can be, so
    limiters can age the vendor's numbers to the present instead of taking
    them as current.
    """

    cost: float
    sent_at: float


class RateLimiter:
    """A connection without a known budget: only honours pauses the vendor asks for.

    Subclasses override :meth:`_delay`, :meth:`_take` and :meth:`_observe`.
    """

    default_cost = 1.0

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf
        self._news = asyncio.Event()
        self._in_flight = 0  # sent, not yet answered: the vendor's numbers do not show them

    async def acquire(self, cost: float | None = None) -> Permit:
        """Wait until a request of ``cost`` fits the budget, then take it from the budget."""
        async with self._lock:
            cost = self.default_cost if cost is None else cost
            while True:
                now = self.clock.monotonic()
                wait = max(self._paused_until - now, self._delay(cost, now))
                if wait <= 0:
                    break
                await self._sleep_unless_news(max(wait, _MIN_SLEEP))
            self._take(cost, now)
            self._in_flight += 1
            return Permit(cost, now)

    def observe(self, response: httpx.Response, permit: Permit) -> None:
        """Correct the local model from what the vendor reported in ``response``."""
        self._in_flight = max(0, self._in_flight - 1)
        self._observe(response, permit)
        self._news.set()  # a waiting request may now fit: let it look again

    def release(self, permit: Permit) -> None:
        """The request behind ``permit`` got no answer (network failure)."""
        self._in_flight = max(0, self._in_flight - 1)

    def pause(self, seconds: float) -> None:
        """Hold every request of this connection for ``seconds`` (vendor said back off)."""
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def _sleep_unless_news(self, seconds: float) -> None:
        self._news.clear()
        sleeping = asyncio.ensure_future(self.clock.sleep(seconds))
        hearing = asyncio.ensure_future(self._news.wait())
        try:
            await asyncio.wait({sleeping, hearing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            hearing.cancel()

    def _observe(self, response: httpx.Response, permit: Permit) -> None:
        """Read the vendor's budget from ``response``; ``_in_flight`` excludes it already."""

    def _delay(self, cost: float, now: float) -> float:
        """Seconds until a request of ``cost`` fits; zero or less means now."""
        return 0.0

    def _take(self, cost: float, now: float) -> None:
        """Record that a request of ``cost`` is being sent at ``now``."""
