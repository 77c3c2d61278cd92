from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hub.http import (
    ApiClient,
    CostBucket,
    HeaderWindow,
    LeakyBucket,
    MetaUsage,
    Permit,
    RateLimiter,
    VirtualClock,
)

pytestmark = pytest.mark.anyio


def reply(headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
    return httpx.Response(200, headers=headers, json=body, request=httpx.Request("GET", "/"))


async def grant_times(
    limiter: RateLimiter, clock: VirtualClock, n: int, cost: float = 1
) -> list[float]:
    times = []
    for _ in range(n):
        await limiter.acquire(cost)
        times.append(clock.monotonic())
    return times


async def test_leaky_bucket_bursts_then_paces(clock: VirtualClock) -> None:
    bucket = LeakyBucket(40, clock=clock)  # 2/s leak, one call of headroom
    times = await grant_times(bucket, clock, 42)
    assert times[:39] == [0] * 39
    assert times[39:] == pytest.approx([0.5, 1.0, 1.5])


async def test_leaky_bucket_follows_the_vendors_count_and_size(clock: VirtualClock) -> None:
    bucket = LeakyBucket(clock=clock)
    permit = await bucket.acquire()
    bucket.observe(reply({"X-Shopify-Shop-Api-Call-Limit": "292/300"}), permit)
    assert (bucket.capacity, bucket.leak_rate) == (300, 15)
    times = await grant_times(bucket, clock, 8)
    assert times[:7] == [0] * 7  # 292 used: 7 more fit under 300 less one of headroom
    assert times[7] == pytest.approx(1 / 15)


async def test_leaky_bucket_keeps_a_configured_leak_rate(clock: VirtualClock) -> None:
    bucket = LeakyBucket(40, leak_rate=1, clock=clock)
    bucket.observe(reply({"X-Shopify-Shop-Api-Call-Limit": "1/80"}), Permit(1, 0))
    assert (bucket.capacity, bucket.leak_rate) == (80, 1)


async def test_cost_bucket_reads_shopifys_cost_extension(
    clock: VirtualClock, vendor_json: Callable[[str], Any]
) -> None:
    bucket = CostBucket(maximum=500, restore_rate=10, clock=clock)
    body = vendor_json("shopify/graphql/query_error_with_cost_extensions.json")
    bucket.observe(reply(body=body), await bucket.acquire(2))
    assert (bucket.maximum, bucket.restore_rate, bucket.default_cost) == (1000, 50, 2)
    await bucket.acquire(999)  # 998 available: one point short, 1/50 s at 50 a second
    assert clock.monotonic() == pytest.approx(0.02)


async def test_cost_bucket_refunds_the_unused_part_of_a_query(clock: VirtualClock) -> None:
    bucket = CostBucket(maximum=1000, restore_rate=50, clock=clock)
    permits = [await bucket.acquire(250) for _ in range(4)]  # all reserved
    cost = {"requestedQueryCost": 250, "actualQueryCost": 50}
    bucket.observe(reply(body={"data": {}, "extensions": {"cost": cost}}), permits[0])
    await bucket.acquire(200)
    assert clock.monotonic() == 0  # 200 came back


async def test_cost_bucket_throttled_query_costs_nothing_but_adopts_the_vendor_state(
    clock: VirtualClock, vendor_json: Callable[[str], Any]
) -> None:
    bucket = CostBucket(clock=clock)
    body = vendor_json("shopify/graphql/throttled_error.json")
    body["extensions"] = {
        "cost": {
            "requestedQueryCost": 100,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": 1000,
                "currentlyAvailable": 40,
                "restoreRate": 50,
            },
        }
    }
    bucket.observe(reply(body=body), await bucket.acquire(100))
    await bucket.acquire()  # the default is now the requested cost, 100: 60 short
    assert clock.monotonic() == pytest.approx(60 / 50)


async def test_a_refund_wakes_a_waiting_request(clock: VirtualClock) -> None:
    bucket = CostBucket(maximum=100, restore_rate=1, clock=clock)
    first = await bucket.acquire(100)
    waiter = asyncio.create_task(bucket.acquire(100))  # would wait 100 s
    await clock.sleep(3)
    cost = {"requestedQueryCost": 100, "actualQueryCost": 0}
    bucket.observe(reply(body={"extensions": {"cost": cost}}), first)
    await waiter
    assert clock.monotonic() == 3


async def test_header_window_spends_the_window_then_waits_for_the_reset(
    clock: VirtualClock,
) -> None:
    window = HeaderWindow(clock=clock)
    headers = {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "30"}
    window.observe(reply(headers), await window.acquire())
    assert await grant_times(window, clock, 4) == pytest.approx([0, 0, 30, 30], abs=1e-5)


async def test_header_window_reads_a_unix_time_reset(clock: VirtualClock) -> None:
    window = HeaderWindow(clock=clock)
    reset = str(int(clock.time()) + 45)
    headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    window.observe(reply(headers), await window.acquire())
    await window.acquire()
    assert clock.monotonic() == pytest.approx(45, abs=1e-5)


async def test_header_window_counts_calls_sent_before_the_first_answer(clock: VirtualClock) -> None:
    window = HeaderWindow(clock=clock)
    permits = [await window.acquire() for _ in range(3)]  # sent blind, all in flight
    headers = {"X-RateLimit-Limit": "4", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "10"}
    window.observe(reply(headers), permits[0])  # counts only the first of the three
    assert await grant_times(window, clock, 2) == pytest.approx([0, 10], abs=1e-5)


async def test_header_window_takes_other_header_names(clock: VirtualClock) -> None:
    window = HeaderWindow(
        limit="RateLimit-Limit",
        remaining="RateLimit-Remaining",
        reset="RateLimit-Reset",
        clock=clock,
    )
    headers = {"RateLimit-Limit": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}
    window.observe(reply(headers), await window.acquire())
    await window.acquire()
    assert clock.monotonic() == pytest.approx(7, abs=1e-5)


async def test_meta_regain_time_pauses_the_connection(clock: VirtualClock) -> None:
    meta = MetaUsage(clock=clock)
    usage = {
        "1234": [
            {
                "type": "ads_management",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": 5,
            }
        ]
    }
    meta.observe(reply({"X-Business-Use-Case-Usage": json.dumps(usage)}), await meta.acquire())
    await meta.acquire()
    assert clock.monotonic() == pytest.approx(300, abs=1e-5)


async def test_meta_keeps_its_calls_under_the_target(clock: VirtualClock) -> None:
    """Three calls read 20, 40, 60%: one adds at most 20.3%, so four fit under 90%."""
    meta = MetaUsage(window=100, target=90, clock=clock)
    for n in range(1, 4):
        headers = {
            "X-App-Usage": json.dumps({"call_count": 0, "total_time": 0, "total_cputime": 0}),
            "X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 20 * n, "reset_time_duration": 0}),
        }
        meta.observe(reply(headers), await meta.acquire())
        await clock.sleep(1)
    await meta.acquire()
    assert clock.monotonic() == 3
    await meta.acquire()  # the fifth waits for the first to leave the window
    assert clock.monotonic() == pytest.approx(100, abs=1e-5)


async def test_meta_ignores_unreadable_headers(clock: VirtualClock) -> None:
    meta = MetaUsage(clock=clock)
    meta.observe(reply({"X-App-Usage": "not json"}), await meta.acquire())
    assert await grant_times(meta, clock, 3) == [0, 0, 0]


async def test_waiting_requests_are_served_in_arrival_order(clock: VirtualClock) -> None:
    bucket = LeakyBucket(5, leak_rate=1, headroom=0, clock=clock)
    granted: list[tuple[int, float]] = []

    async def request(n: int) -> None:
        await bucket.acquire()
        granted.append((n, clock.monotonic()))

    await asyncio.gather(*(request(n) for n in range(10)))
    assert [n for n, _ in granted] == list(range(10))
    assert [t for _, t in granted] == pytest.approx([0] * 5 + [1, 2, 3, 4, 5])


async def test_a_429_holds_every_task_of_the_connection(clock: VirtualClock) -> None:
    arrivals: list[tuple[str, float]] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        arrivals.append((request.url.path, clock.monotonic()))
        if len(arrivals) == 1:
            return httpx.Response(429, headers={"Retry-After": "10"})
        return httpx.Response(200)

    async with ApiClient(
        "https://shop.example/",
        connection="shop",
        clock=clock,
        transport=httpx.MockTransport(vendor),
    ) as client:
        first = asyncio.create_task(client.get("/a"))
        await clock.sleep(1)
        await client.get("/b")
        await first
    assert [path for path, _ in arrivals] == ["/a", "/b", "/a"]
    assert [at for _, at in arrivals] == pytest.approx([0, 10, 10], abs=1e-5)
