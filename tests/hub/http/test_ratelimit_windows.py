"""Budgets reported per time window, emulated: X-RateLimit-* and Meta's usage percentages.

The emulators count calls on the shared VirtualClock and refuse what goes over
(429, Meta error #4), so refusals and the share of the budget used are measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hub.http import DEFAULT_POLICY, Action, ApiClient, HeaderWindow, MetaUsage, VirtualClock

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ApiClient]
RunFor = Callable[..., Awaitable[None]]
LATENCY = 0.1  # virtual seconds per round trip; the vendor counts the call halfway


class FixedWindow:
    """``limit`` calls per ``window`` seconds, reported in X-RateLimit-* headers."""

    def __init__(
        self, clock: VirtualClock, *, epoch_reset: bool, limit: int = 100, window: float = 60
    ) -> None:
        self.clock, self.epoch_reset, self.limit, self.window = clock, epoch_reset, limit, window
        self.accepted: list[float] = []
        self.refused = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.clock.sleep(LATENCY / 2)
        now = self.clock.monotonic()
        start = now - now % self.window
        used = sum(1 for t in self.accepted if t >= start)
        reset_in = start + self.window - now
        reset = self.clock.time() + reset_in if self.epoch_reset else reset_in
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Reset": str(math.ceil(reset))}
        if used >= self.limit:
            self.refused += 1
            status, headers["Retry-After"] = 429, str(math.ceil(reset_in))
        else:
            status, used = 200, used + 1
            self.accepted.append(now)
        headers["X-RateLimit-Remaining"] = str(self.limit - used)
        await self.clock.sleep(LATENCY / 2)
        return httpx.Response(status, json={}, headers=headers)


@pytest.mark.parametrize("epoch_reset", [False, True])
async def test_header_window_uses_each_window_without_429(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor, epoch_reset: bool
) -> None:
    vendor = FixedWindow(clock, epoch_reset=epoch_reset)
    client = make_client(vendor, limiter=HeaderWindow(clock=clock))
    await run_for(300, lambda: client.get("contacts"), tasks=3)
    used = sum(1 for t in vendor.accepted if t < 300) / 500
    print(
        f"\nheader window (epoch reset {epoch_reset}): {used:.3f} of budget, {vendor.refused} x 429"
    )
    assert vendor.refused == 0
    assert used >= 0.95


class MetaApp:
    """Rolling one-hour window of ``limit`` calls, reported as whole percentages in X-App-Usage."""

    def __init__(self, clock: VirtualClock, *, limit: int = 200, others: int = 0) -> None:
        self.clock, self.limit, self.window = clock, limit, 3600.0
        self.accepted: list[float] = []
        self.refused = 0
        self.others = [-3600 + n * 3600 / others for n in range(2 * others)] if others else []
        """Another user of the app calling steadily, ``others`` calls an hour."""

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.clock.sleep(LATENCY / 2)
        now = self.clock.monotonic()
        seen = [t for t in self.accepted + self.others if now - self.window < t <= now]
        in_window = len(seen)
        if in_window >= self.limit:
            self.refused += 1
            status = 400
            body: dict[str, Any] = {
                "error": {"message": "(#4) Application request limit reached", "code": 4}
            }
        else:
            status, body, in_window = 200, {"data": []}, in_window + 1
            self.accepted.append(now)
        percent = 100 * in_window // self.limit
        usage = {"call_count": percent, "total_time": percent // 2, "total_cputime": percent // 3}
        await self.clock.sleep(LATENCY / 2)
        return httpx.Response(status, json=body, headers={"X-App-Usage": json.dumps(usage)})


@pytest.mark.parametrize(("tasks", "others"), [(1, 0), (10, 0), (3, 50), (1, 150), (30, 120)])
async def test_meta_usage_keeps_the_app_near_its_limit_and_under_it(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor, tasks: int, others: int
) -> None:
    """Meta's budget is shared by every user of the app: the whole window is what counts."""
    vendor = MetaApp(clock, others=others)
    policy = DEFAULT_POLICY.extend(
        codes={"4": Action.BACKOFF}, code_of=lambda r: str(r.json().get("error", {}).get("code"))
    )
    client = make_client(vendor, limiter=MetaUsage(clock=clock), policy=policy)
    await run_for(7200, lambda: client.get("act_1/ads"), tasks=tasks)
    hours = [sum(1 for at in vendor.accepted if h * 3600 <= at < (h + 1) * 3600) for h in (0, 1)]
    in_use = [(others + ours) / 200 for ours in hours]
    print(
        f"\nmeta usage, {tasks} task(s), others {others}/h: app budget in use {in_use[0]:.3f} "
        f"then {in_use[1]:.3f} (ours {hours[0]}, {hours[1]} of {200 - others}); "
        f"{vendor.refused} x error 4"
    )
    assert vendor.refused == 0
    assert min(in_use) >= 0.95
