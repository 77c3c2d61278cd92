"""The limiter contract: ask before sending, report what the vendor said after.

Every limiter keeps a local model of the vendor's budget so that it can wait
*before* a request instead of learning from a 429, and corrects the model from
the vendor's headers or body after each response. Waiting happens under one
FIFO lock, so concurrent tasks of a connection are served in order and none
jumps a queue the others are sleeping in.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import httpx

from hub.http.clock import Clock, SystemClock

__all__ = ["Permit", "RateLimiter"]

_NEGLIGIBLE_WAIT = 1e-6  # below this a wait cannot move a float clock; treat as none


@dataclass(frozen=True, slots=True)
class Permit:
    """What :meth:`RateLimiter.acquire` granted: the cost taken and when.

    ``sent_at`` bounds how stale a budget reported in the response can be, so
    limiters can age the vendor's numbers to the present instead of trusting
    them as of now.
    """

    cost: float
    sent_at: float


class RateLimiter:
    """A connection without a known budget: only honours pauses the vendor asks for.

    Subclasses override :meth:`_delay`, :meth:`_take` and :meth:`observe`.
    """

    default_cost = 1.0

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf

    async def acquire(self, cost: float | None = None) -> Permit:
        """Wait until a request of ``cost`` fits the budget, then take it from the budget."""
        async with self._lock:
            cost = self.default_cost if cost is None else cost
            while True:
                now = self.clock.monotonic()
                wait = max(self._paused_until - now, self._delay(cost, now))
                if wait <= _NEGLIGIBLE_WAIT:
                    break
                await self.clock.sleep(wait)
            self._take(cost, now)
            return Permit(cost, now)

    def observe(self, response: httpx.Response, permit: Permit) -> None:
        """Correct the local model from what the vendor reported in ``response``."""

    def pause(self, seconds: float) -> None:
        """Hold every request of this connection for ``seconds`` (vendor said back off)."""
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    def _delay(self, cost: float, now: float) -> float:
        """Seconds until a request of ``cost`` fits; zero or less means now."""
        return 0.0

    def _take(self, cost: float, now: float) -> None:
        """Record that a request of ``cost`` is being sent at ``now``."""
