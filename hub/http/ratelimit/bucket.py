"""Shopify-style budgets: a leaky bucket of calls and a bucket of query cost.

Both vendors publish the bucket state on every response, so the local model is
only a forecast between responses: it counts our own requests (including those
still in flight, which the vendor has not seen yet) and takes the vendor's word
whenever it shows less room, e.g. because another app shares the bucket, or,
with nothing in flight, more room, e.g. because the shop's plan has a bigger one.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from hub.http.clock import Clock
from hub.http.ratelimit.base import Permit, RateLimiter

__all__ = ["CostBucket", "LeakyBucket"]


class LeakyBucket(RateLimiter):
    """Calls fill a bucket that leaks at a steady rate (Shopify REST).

    ``headroom`` calls stay unused so that rounding in the vendor's count or a
    clock a little ahead of ours never tips a request into a 429; it only trims
    the first burst, not the steady rate. Without ``leak_rate`` it follows
    Shopify's published ratio of bucket size to leak rate (40 -> 2/s, 80 -> 4/s)
    as the header reports the bucket size.
    """

    def __init__(
        self,
        capacity: float = 40,
        leak_rate: float | None = None,
        *,
        headroom: float = 1,
        header: str = "X-Shopify-Shop-Api-Call-Limit",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.capacity = capacity
        self._fixed_rate = leak_rate
        self.leak_rate = leak_rate or capacity / 20
        self.headroom = headroom
        self.header = header
        self._level = 0.0
        self._at = self.clock.monotonic()

    def _drain(self, now: float) -> None:
        self._level = max(0.0, self._level - self.leak_rate * max(0.0, now - self._at))
        self._at = max(self._at, now)

    def _delay(self, cost: float, now: float) -> float:
        self._drain(now)
        excess = self._level + cost - (self.capacity - self.headroom)
        return excess / self.leak_rate

    def _take(self, cost: float, now: float) -> None:
        self._drain(now)
        self._level += cost

    def _observe(self, response: httpx.Response, permit: Permit) -> None:
        used, _, size = response.headers.get(self.header, "").partition("/")
        try:
            vendor_used, vendor_size = float(used), float(size)
        except ValueError:
            return
        self.capacity = vendor_size
        self.leak_rate = self._fixed_rate or vendor_size / 20
        now = self.clock.monotonic()
        self._drain(now)
        leaked_since = self.leak_rate * max(0.0, now - permit.sent_at)
        self._level = max(self._level, vendor_used - leaked_since)


class CostBucket(RateLimiter):
    """Queries draw points from a bucket that refills steadily (Shopify GraphQL).

    A query may start only when the bucket holds its *requested* cost; the
    vendor then charges the *actual* cost, so the difference comes back. The
    next query's cost defaults to the last requested cost seen, which is right
    for the usual loop of one query paging through a connection.
    """

    def __init__(
        self,
        maximum: float = 1000,
        restore_rate: float = 50,
        *,
        cost: float = 1,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.default_cost = cost
        self._available = maximum
        self._at = self.clock.monotonic()

    def _refill(self, now: float) -> None:
        gained = self.restore_rate * max(0.0, now - self._at)
        self._available = min(self.maximum, self._available + gained)
        self._at = max(self._at, now)

    def _delay(self, cost: float, now: float) -> float:
        self._refill(now)
        return (min(cost, self.maximum) - self._available) / self.restore_rate

    def _take(self, cost: float, now: float) -> None:
        self._refill(now)
        self._available -= cost

    def _observe(self, response: httpx.Response, permit: Permit) -> None:
        cost = _cost_extension(response)
        if cost is None:
            return
        status = cost.get("throttleStatus") or {}
        self.maximum = float(status.get("maximumAvailable", self.maximum))
        self.restore_rate = float(status.get("restoreRate", self.restore_rate))
        if cost.get("requestedQueryCost") is not None:
            self.default_cost = float(cost["requestedQueryCost"])
        now = self.clock.monotonic()
        self._refill(now)
        charged = cost.get("actualQueryCost")  # null when throttled: nothing was charged
        self._available += permit.cost - float(charged or 0)
        if "currentlyAvailable" in status:
            # The vendor counted somewhere between sending and now: its number, aged from
            # the send, is the most there can be. Another client spending from the same
            # bucket shows up as less than our model expects.
            reported = float(status["currentlyAvailable"])
            restored_since = self.restore_rate * max(0.0, now - permit.sent_at)
            self._available = min(self._available, reported + restored_since, self.maximum)
            if not self._in_flight:  # nothing unseen by the vendor: its number is also the least
                self._available = max(self._available, reported)


def _cost_extension(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    return cost if isinstance(cost, dict) else None
