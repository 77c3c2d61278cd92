"""Shopify's buckets, emulated, against LeakyBucket and CostBucket in virtual time.

Each emulator keeps the vendor's bucket on the shared VirtualClock and refuses
what goes over (HTTP 429 with Retry-After; GraphQL THROTTLED), so "no refusals"
and "share of the budget used" are measured, not assumed. Two shares are
checked: of everything the vendor would have allowed in the 30 s (the full
bucket at the start plus the leak), and the steady rate once the burst is spent.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hub.http import (
    DEFAULT_POLICY,
    Action,
    ApiClient,
    CostBucket,
    LeakyBucket,
    RateLimiter,
    VirtualClock,
)

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ApiClient]
RunFor = Callable[..., Awaitable[None]]
LATENCY = 0.1  # virtual seconds per round trip; the vendor counts the call halfway


class ShopifyRest:
    """A bucket of ``capacity`` calls leaking ``rate`` a second, as Shopify REST enforces it.

    ``others`` calls a second from another client fill the same bucket, and the
    used count in the header is rounded with ``rounding``.
    """

    def __init__(
        self,
        clock: VirtualClock,
        *,
        capacity: int = 40,
        rate: float = 2.0,
        others: float = 0.0,
        rounding: Callable[[float], int] = math.ceil,
    ) -> None:
        self.clock, self.capacity, self.rate, self.others = clock, capacity, rate, others
        self.rounding = rounding
        self.level, self.at = 0.0, clock.monotonic()
        self.accepted: list[float] = []
        self.refused = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.clock.sleep(LATENCY / 2)
        now = self.clock.monotonic()
        self.level = max(0.0, self.level + (self.others - self.rate) * (now - self.at))
        self.level, self.at = min(self.level, self.capacity), now
        headers: dict[str, str] = {}
        body: dict[str, Any]
        if self.level + 1 > self.capacity:
            self.refused += 1
            headers["Retry-After"] = str(math.ceil((self.level + 1 - self.capacity) / self.rate))
            status, body = 429, {"errors": "Exceeded 2 calls per second for api client."}
        else:
            self.level += 1
            self.accepted.append(now)
            status, body = 200, {"customers": []}
        headers["X-Shopify-Shop-Api-Call-Limit"] = f"{self.rounding(self.level)}/{self.capacity}"
        await self.clock.sleep(LATENCY / 2)
        return httpx.Response(status, json=body, headers=headers)


def shares(
    spent: list[tuple[float, float]], *, allowed: float, rate: float, steady_from: float = 10
) -> tuple[float, float]:
    """(share of ``allowed`` used in 30 s, share of ``rate`` kept from ``steady_from`` on).

    ``spent`` holds (when the vendor counted it, cost). The steady share is the
    cost between the first and the last call after ``steady_from`` over that
    span, so where the 30 s happen to cut a gap between calls does not count.
    """
    total = sum(cost for at, cost in spent if at < 30) / allowed
    steady = [(at, cost) for at, cost in spent if steady_from <= at < 30]
    span = steady[-1][0] - steady[0][0]
    return total, sum(cost for _, cost in steady[:-1]) / (rate * span)


@pytest.mark.parametrize(
    ("tasks", "rounding"), [(1, math.ceil), (6, math.ceil), (6, math.floor), (6, round)]
)
async def test_two_a_second_burst_40_is_used_without_429(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor, tasks: int, rounding: Any
) -> None:
    """The issue's done-criterion: >= 95% of 2 requests/s, burst 40, no 429, over 30 s."""
    vendor = ShopifyRest(clock, rounding=rounding)
    client = make_client(vendor, limiter=LeakyBucket(clock=clock))
    await run_for(30, lambda: client.get("customers.json"), tasks=tasks)
    calls = [(at, 1.0) for at in vendor.accepted]
    total, steady = shares(calls, allowed=40 + 2 * 30, rate=2)
    print(f"\nleaky bucket 2/s burst 40, {tasks} task(s), header {rounding.__name__}: ", end="")
    print(f"{total:.3f} of the budget, {steady:.3f} of the steady rate, {vendor.refused} x 429")
    assert vendor.refused == 0
    assert total >= 0.95 and steady >= 0.95


async def test_a_bigger_bucket_is_learnt_from_the_header(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor
) -> None:
    vendor = ShopifyRest(clock, capacity=80, rate=4)  # Shopify Plus; the limiter assumes 40
    client = make_client(vendor, limiter=LeakyBucket(clock=clock))
    await run_for(30, lambda: client.get("customers.json"), tasks=6)
    total, steady = shares([(at, 1.0) for at in vendor.accepted], allowed=80 + 4 * 30, rate=4)
    print(f"\nleaky bucket 4/s burst 80: {total:.3f} of the budget, {steady:.3f} steady, ", end="")
    print(f"{vendor.refused} x 429")
    assert vendor.refused == 0
    assert total >= 0.95 and steady >= 0.95


async def test_a_bucket_shared_with_another_app_follows_the_header(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor
) -> None:
    vendor = ShopifyRest(clock, others=0.5)  # leaves us 1.5 calls a second
    client = make_client(vendor, limiter=LeakyBucket(clock=clock))
    await run_for(30, lambda: client.get("customers.json"), tasks=3)
    _, steady = shares([(at, 1.0) for at in vendor.accepted], allowed=1, rate=1.5)
    print(f"\nleaky bucket shared with a 0.5/s app: we keep {steady * 1.5:.2f}/s, ", end="")
    print(f"{vendor.refused} x 429")
    assert vendor.refused <= 1
    assert steady >= 0.95


async def test_the_emulator_refuses_a_client_that_does_not_limit(
    make_client: MakeClient, clock: VirtualClock, run_for: RunFor
) -> None:
    vendor = ShopifyRest(clock)
    client = make_client(vendor, limiter=RateLimiter(clock=clock))
    await run_for(30, lambda: client.get("customers.json"), tasks=4)
    assert vendor.refused > 0


def graphql_code(response: httpx.Response) -> str | None:
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code:
            return str(code)
    return None


class ShopifyGraphql:
    """Shopify's GraphQL cost bucket: a query starts only if its requested cost is
    available, then pays its actual cost; throttled queries get the vendor's body."""

    def __init__(
        self,
        clock: VirtualClock,
        throttled: dict[str, Any],
        *,
        requested: int,
        actual: int,
        maximum: float = 1000,
        rate: float = 50,
    ) -> None:
        self.clock, self.throttled_body = clock, throttled
        self.maximum, self.rate, self.requested, self.actual = maximum, rate, requested, actual
        self.available, self.at = self.maximum, clock.monotonic()
        self.charged: list[tuple[float, float]] = []
        self.throttled = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await self.clock.sleep(LATENCY / 2)
        now = self.clock.monotonic()
        self.available = min(self.maximum, self.available + self.rate * (now - self.at))
        self.at = now
        if self.available < self.requested:
            self.throttled += 1
            body, charged = dict(self.throttled_body), None
        else:
            self.available -= self.actual
            self.charged.append((now, self.actual))
            body, charged = {"data": {"customers": {"edges": []}}}, self.actual
        status = {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": self.rate,
        }
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": self.requested,
                "actualQueryCost": charged,
                "throttleStatus": status,
            }
        }
        await self.clock.sleep(LATENCY / 2)
        return httpx.Response(200, json=body)


@pytest.mark.parametrize(
    ("requested", "actual", "tasks", "plan"),
    [(100, 100, 1, 1), (100, 80, 1, 1), (100, 100, 4, 1), (100, 100, 4, 2)],
)
async def test_cost_bucket_keeps_the_restore_rate_without_throttling(
    make_client: MakeClient,
    clock: VirtualClock,
    run_for: RunFor,
    vendor_json: Callable[[str], Any],
    requested: int,
    actual: int,
    tasks: int,
    plan: int,
) -> None:
    """``plan`` 2 is Shopify Plus (2000 points, 100 a second): learnt from the responses."""
    throttled = vendor_json("shopify/graphql/throttled_error.json")
    maximum, rate = 1000 * plan, 50 * plan
    vendor = ShopifyGraphql(
        clock, throttled, requested=requested, actual=actual, maximum=maximum, rate=rate
    )
    policy = DEFAULT_POLICY.extend(codes={"THROTTLED": Action.BACKOFF}, code_of=graphql_code)
    client = make_client(vendor, limiter=CostBucket(clock=clock), policy=policy)
    query = {"query": "{ customers(first: 50) { edges { node { id } } } }"}

    async def call() -> httpx.Response:
        return await client.post("graphql.json", json=query, safe_to_retry=True)

    await run_for(30, call, tasks=tasks)
    total, steady = shares(vendor.charged, allowed=maximum + rate * 30, rate=rate)
    print(
        f"\ncost bucket {maximum} @ {rate}/s, query {requested}/{actual}, {tasks} task(s): ", end=""
    )
    print(f"{total:.3f} of the budget, {steady:.3f} steady, {vendor.throttled} x THROTTLED")
    assert vendor.throttled == 0
    assert total >= 0.95 and steady >= 0.95


async def test_throttled_on_http_200_is_retried_by_the_policy(
    make_client: MakeClient,
    clock: VirtualClock,
    run_for: RunFor,
    vendor_json: Callable[[str], Any],
) -> None:
    """Without the cost limiter the vendor throttles; the policy turns that into a retry."""
    throttled = vendor_json("shopify/graphql/throttled_error.json")
    vendor = ShopifyGraphql(clock, throttled, requested=100, actual=100)
    policy = DEFAULT_POLICY.extend(codes={"THROTTLED": Action.BACKOFF}, code_of=graphql_code)
    client = make_client(vendor, limiter=RateLimiter(clock=clock), policy=policy)
    query = {"query": "{ shop { id } }"}
    await run_for(30, lambda: client.post("graphql.json", json=query, safe_to_retry=True))
    assert vendor.throttled > 0
    assert len(vendor.charged) >= 20  # every query got through in the end
