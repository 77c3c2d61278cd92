"""Budgets reported per time window: X-RateLimit-* headers and Meta's usage percentages."""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterator
from typing import Any

import httpx

from hub.http.clock import Clock
from hub.http.ratelimit.base import Permit, RateLimiter

__all__ = ["HeaderWindow", "MetaUsage"]

_EPOCH_THRESHOLD = 1e9  # a reset this large is a Unix time, not a number of seconds


class HeaderWindow(RateLimiter):
    """A fixed window of N calls, from ``X-RateLimit-Limit/-Remaining/-Reset``.

    Spends the window's calls as fast as they are wanted, then waits for the
    reset: the whole budget is used and no call is sent that the vendor has
    already said it will refuse. ``Reset`` may be seconds from now or a Unix
    time (vendors differ); both are read. Pass the IETF ``RateLimit-*`` names to
    follow that draft instead.
    """

    def __init__(
        self,
        *,
        limit: str = "X-RateLimit-Limit",
        remaining: str = "X-RateLimit-Remaining",
        reset: str = "X-RateLimit-Reset",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.headers = (limit, remaining, reset)
        self._limit: float | None = None
        self._remaining: float | None = None  # None until the vendor first tells us
        self._reset_at = math.inf
        self._span = 0.0  # longest reset delay seen: the window length, near enough

    def _delay(self, cost: float, now: float) -> float:
        if now >= self._reset_at and self._limit is not None:
            self._remaining, self._reset_at = self._limit, now + self._span
        if self._remaining is None or self._remaining >= cost:
            return 0.0
        return self._reset_at - now

    def _take(self, cost: float, now: float) -> None:
        if self._remaining is not None:
            self._remaining -= cost

    def observe(self, response: httpx.Response, permit: Permit) -> None:
        try:
            limit, remaining, reset = (float(response.headers[name]) for name in self.headers)
        except (KeyError, ValueError):
            return
        now = self.clock.monotonic()
        if reset > _EPOCH_THRESHOLD:
            reset -= self.clock.time()
        reset_at = now + max(reset, 0.0)
        self._span = max(self._span, reset)
        if self._remaining is None or reset_at > self._reset_at + 1.0:  # a new window
            self._remaining = remaining
        else:  # same window: our in-flight calls are not in the vendor's count yet
            self._remaining = min(self._remaining, remaining)
        self._limit, self._reset_at = limit, reset_at


class MetaUsage(RateLimiter):
    """Meta's rolling one-hour usage percentages (X-App-Usage, X-Business-Use-Case-Usage).

    Meta reports how full the window is, not how many calls remain, so the
    limiter learns what one call costs (usage / our calls in the window, which
    overstates it when others share the app: the safe side) and keeps a log of
    its own calls. A call waits until enough of them age out of the window to
    keep usage at or below ``target`` percent. ``estimated_time_to_regain_access``
    (minutes) pauses the connection outright.
    """

    def __init__(
        self,
        *,
        window: float = 3600,
        target: float = 95,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.window = window
        self.target = target
        self._calls: deque[float] = deque()
        self._per_call: float | None = None
        self._others = 0.0

    def _expire(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()

    def _delay(self, cost: float, now: float) -> float:
        self._expire(now)
        if not self._per_call:
            return 0.0
        allowed = math.floor((self.target - self._others) / self._per_call + 1e-9)
        excess = len(self._calls) + math.ceil(cost) - allowed
        if excess <= 0:
            return 0.0
        if excess > len(self._calls):
            return self.window  # others use the budget; look again after a window
        return self._calls[excess - 1] + self.window - now

    def _take(self, cost: float, now: float) -> None:
        self._calls.extend([now] * math.ceil(cost))

    def observe(self, response: httpx.Response, permit: Permit) -> None:
        readings = list(_usage_readings(response))
        if not readings:
            return
        self._expire(self.clock.monotonic())
        usage = max(percent for percent, _ in readings)
        regain_minutes = max(minutes for _, minutes in readings)
        if regain_minutes > 0:
            self.pause(regain_minutes * 60)
        if self._calls:
            self._per_call = usage / len(self._calls) if usage > 0 else self._per_call
            self._others = 0.0
        else:  # none of the usage is ours (another process, an earlier run)
            self._others = usage


def _usage_readings(response: httpx.Response) -> Iterator[tuple[float, float]]:
    """(highest percentage, minutes to regain access) per usage object in the headers."""
    for header in ("X-App-Usage", "X-Ad-Account-Usage", "X-Business-Use-Case-Usage"):
        try:
            value: Any = json.loads(response.headers.get(header, "null"))
        except json.JSONDecodeError:
            continue
        entries = (
            [value] if isinstance(value, dict) and header != "X-Business-Use-Case-Usage" else []
        )
        if isinstance(value, dict) and not entries:
            entries = [e for group in value.values() if isinstance(group, list) for e in group]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            percents = [
                float(entry.get(key) or 0)
                for key in ("call_count", "total_time", "total_cputime", "acc_id_util_pct")
            ]
            yield max(percents), float(entry.get("estimated_time_to_regain_access") or 0)
