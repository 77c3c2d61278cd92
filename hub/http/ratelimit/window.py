"""Budgets reported per time window: X-RateLimit-* headers and Meta's usage percentages."""

from __future__ import annotations

import bisect
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
        self._unheard = 0.0  # cost sent before the first answer
        self._reset_at = math.inf
        self._span = 0.0  # longest reset delay seen: the window length, near enough

    def _delay(self, cost: float, now: float) -> float:
        if now >= self._reset_at and self._limit is not None:
            self._remaining, self._reset_at = self._limit, now + self._span
        if self._remaining is None or self._remaining >= cost:
            return 0.0
        return self._reset_at - now

    def _take(self, cost: float, now: float) -> None:
        if self._remaining is None:
            self._unheard += cost
        else:
            self._remaining -= cost

    def _observe(self, response: httpx.Response, permit: Permit) -> None:
        try:
            limit, remaining, reset = (float(response.headers[name]) for name in self.headers)
        except (KeyError, ValueError):
            return
        now = self.clock.monotonic()
        if reset > _EPOCH_THRESHOLD:
            reset -= self.clock.time()
        reset_at = now + max(reset, 0.0)
        self._span = max(self._span, reset)
        if self._remaining is None:  # calls sent before this answer may not be counted in it
            self._remaining = remaining - (self._unheard - permit.cost)
        elif reset_at > self._reset_at + 1.0:  # a new window
            self._remaining = remaining
        else:  # same window: our in-flight calls are not in the vendor's count yet
            self._remaining = min(self._remaining, remaining)
        self._limit, self._reset_at = limit, reset_at


class MetaUsage(RateLimiter):
    """Meta's rolling one-hour usage percentages (X-App-Usage, X-Business-Use-Case-Usage).

    Meta reports how full the window is, not how many calls remain. The limiter
    keeps a log of its own calls and learns an upper bound on what one of them
    adds: from a single reading (all usage could be ours) and from the growth
    since a baseline (other users' usage cancels out). The rest of the usage is
    counted as someone else's. A call waits until enough of ours age out of the
    window to keep the total at or below ``target`` percent; while the bound is
    still loose, single probing calls go out as long as the last reading leaves
    room for ``probe_share`` percent (Meta's smallest app budget, 200 calls an
    hour, is 0.5% a call), which is how the bound gets tight.
    ``estimated_time_to_regain_access`` (minutes) pauses the connection outright.
    """

    def __init__(
        self,
        *,
        window: float = 3600,
        target: float = 97,
        probe_share: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.window = window
        self.target = target
        self.probe_share = probe_share
        self._calls: deque[float] = deque()
        self._per_call: float | None = None
        self._others = 0.0  # usage that is not ours: other users of the same app
        self._usage = 0.0  # the newest reading...
        self._seen_until = -math.inf  # ...covers our calls sent up to here
        self._baseline: tuple[float, int, float] | None = None  # usage, our calls, when

    def _expire(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()

    def _delay(self, cost: float, now: float) -> float:
        self._expire(now)
        if self._per_call is None or not self._calls:
            return 0.0  # nothing of ours in the window: a call is also how we learn the usage
        allowed = math.floor((self.target - self._others) / self._per_call + 1e-9)
        excess = min(len(self._calls) + math.ceil(cost) - allowed, len(self._calls))
        if excess <= 0:
            return 0.0
        all_seen = self._calls[-1] <= self._seen_until
        probe = min(self._per_call, self.probe_share) * cost
        if all_seen and self._usage + probe <= self.target:
            return 0.0  # a probe: its reading tightens the bound
        return self._calls[excess - 1] + self.window - now

    def _take(self, cost: float, now: float) -> None:
        self._calls.extend([now] * math.ceil(cost))

    def _observe(self, response: httpx.Response, permit: Permit) -> None:
        readings = list(_usage_readings(response))
        if not readings:
            return
        self._expire(self.clock.monotonic())
        usage = max(percent for percent, _ in readings)
        regain_minutes = max(minutes for _, minutes in readings)
        counted = bisect.bisect_left(self._calls, permit.sent_at) + 1  # surely in ``usage``
        self._per_call = self._per_call_bound(usage, counted)
        self._others = max(0.0, usage - self._per_call * counted)
        if permit.sent_at >= self._seen_until:
            self._usage, self._seen_until = usage, permit.sent_at
        if regain_minutes > 0:  # blocked until then; after it, a probe may find out how far
            self.pause(regain_minutes * 60)
            self._usage = 0.0

    def _per_call_bound(self, usage: float, counted: int) -> float:
        """The tightest upper bound on one call's share; Meta rounds usage down, hence +1."""
        bounds = [(usage + 1) / counted]
        if self._per_call is not None:
            bounds.append(self._per_call)
        now = self.clock.monotonic()
        if self._baseline is None or now - self._baseline[2] >= self.window:
            self._baseline = (usage, len(self._calls), now)
        base_usage, base_calls, _ = self._baseline
        if counted > base_calls:
            bounds.append((usage - base_usage + 1) / (counted - base_calls))
        return min(bounds)


def _usage_readings(response: httpx.Response) -> Iterator[tuple[float, float]]:
    """(highest percentage, minutes to regain access) per usage object in the headers."""
    for header in ("X-App-Usage", "X-Ad-Account-Usage", "X-Business-Use-Case-Usage"):
        try:
            value: Any = json.loads(response.headers.get(header, "null"))
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict):
            continue
        entries = [value]
        if header == "X-Business-Use-Case-Usage":  # {business id: [one object per use case]}
            entries = [e for group in value.values() if isinstance(group, list) for e in group]
        for entry in entries:
            if isinstance(entry, dict):
                percents = [
                    float(entry.get(key) or 0)
                    for key in ("call_count", "total_time", "total_cputime", "acc_id_util_pct")
                ]
                yield max(percents), float(entry.get("estimated_time_to_regain_access") or 0)
