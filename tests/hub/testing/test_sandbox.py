"""The sandbox base: the edge in front of every route, in-process transport, clocks.

MiniShop is just enough of Shopify's REST Admin API to hold the base to a real
vendor's shapes: the ``errors`` body key, ``Retry-After`` on 429, the access
token header. Its error answers are compared with Shopify's own test material
(tests/fixtures/vendor/shopify/headers/, MIT, see SOURCES.md there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.errors import RetriableError
from hub.http import ApiClient, HeaderAuth, RetrySettings, VirtualClock
from hub.testing.fake import fake_people
from hub.testing.faults import Fault
from hub.testing.limits import FixedWindow
from hub.testing.sandbox import BASE_URL, Sandbox

pytestmark = pytest.mark.anyio
VENDOR = Path(__file__).parents[2] / "fixtures" / "vendor" / "shopify" / "headers"
PATH = "/admin/api/2024-01/customers.json"
TOKEN = "shpat_sandbox"


class MiniShop(Sandbox):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock=clock)
        self.customers: list[dict[str, Any]] = []

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self._customers, methods=["GET"])]

    async def _customers(self, request: Request) -> Response:
        return JSONResponse({"customers": self.customers})

    def populate(self, count: int, *, seed: int = 1) -> None:
        self.customers += [
            {"id": p.number, "email": p.email} for p in fake_people(count, seed=seed)
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        return JSONResponse({"errors": message}, status, dict(headers or {}))

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("X-Shopify-Access-Token") == TOKEN:
            return None
        return self.error(401, "unauthorized", "[API] Invalid API key or access token")

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {"shop": base_url, "access_token": "${SHOP_TOKEN}"}


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def shop(clock: VirtualClock) -> MiniShop:
    shop = MiniShop(clock)
    shop.populate(3)
    return shop


def _client(shop: MiniShop, token: str = TOKEN, timeout: float = 5.0) -> httpx.AsyncClient:
    return shop.client(headers={"X-Shopify-Access-Token": token}, timeout=timeout)


@pytest.mark.parametrize(("fault", "index"), [(Fault.throttle(100), 0), (Fault.error(500), 1)])
async def test_fault_answers_have_the_vendors_shape(
    shop: MiniShop, fault: Fault, index: int
) -> None:
    recorded = json.loads((VENDOR / "rest_paging_rate_limit_and_errors.json").read_text())
    expected = recorded["rest_error_responses"][index]
    shop.faults.add(fault)
    async with _client(shop) as client:
        response = await client.get(PATH)
    assert response.status_code == expected["status"]
    assert set(response.json()) == set(expected["body"]) == {"errors"}
    for header, value in expected.get("headers", {}).items():
        assert response.headers[header] == value


async def test_the_client_reads_an_injected_throttle_as_the_vendor_means_it(
    shop: MiniShop, clock: VirtualClock
) -> None:
    shop.faults.add(Fault.throttle(100))
    api = ApiClient(
        BASE_URL,
        connection="shop",
        auth=HeaderAuth("X-Shopify-Access-Token", SecretStr(TOKEN)),
        retry=RetrySettings(max_attempts=1),
        clock=clock,
        transport=shop.transport(),
    )
    with pytest.raises(RetriableError) as raised:
        await api.get(PATH)
    await api.aclose()
    assert raised.value.retry_after == 100


async def test_faults_come_before_authentication(shop: MiniShop) -> None:
    shop.faults.add(Fault.error(503))
    async with _client(shop, token="wrong") as client:
        assert (await client.get(PATH)).status_code == 503
        assert (await client.get(PATH)).status_code == 401


async def test_refused_credentials_do_not_spend_the_rate_limit(
    shop: MiniShop, clock: VirtualClock
) -> None:
    shop.limit = FixedWindow(2, 10, clock=clock)
    async with _client(shop, token="wrong") as client:
        assert [(await client.get(PATH)).status_code for _ in range(3)] == [401] * 3
    async with _client(shop) as client:
        answers = [await client.get(PATH) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].headers["Retry-After"] == "10"
    assert answers[2].json() == {"errors": "Too many requests"}


async def test_an_expired_token_and_an_outage_use_the_vendor_body(shop: MiniShop) -> None:
    shop.faults.add(Fault.expire_token())
    shop.faults.add(Fault.error(502), after=1)
    async with _client(shop) as client:
        expired, outage = await client.get(PATH), await client.get(PATH)
    assert (expired.status_code, expired.json()) == (401, {"errors": "The access token expired"})
    assert outage.status_code == 502 and "errors" in outage.json()


async def test_a_stall_past_the_clients_timeout_is_a_read_timeout_in_virtual_time(
    shop: MiniShop, clock: VirtualClock
) -> None:
    shop.faults.add(Fault.delay(60))
    async with _client(shop, timeout=5) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(PATH)
        assert clock.monotonic() == pytest.approx(5)
        shop.faults.add(Fault.delay(2))
        assert (await client.get(PATH)).status_code == 200
    assert clock.monotonic() == pytest.approx(7)


async def test_a_truncated_body_is_a_dropped_connection(shop: MiniShop) -> None:
    shop.faults.add(Fault.truncate())
    async with _client(shop) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(PATH)
        assert len((await client.get(PATH)).json()["customers"]) == 3


async def test_unknown_paths_and_methods_answer_in_the_vendors_words(shop: MiniShop) -> None:
    async with _client(shop) as client:
        missing, wrong_method = await client.get("/admin/api/nope.json"), await client.post(PATH)
    assert (missing.status_code, missing.json()) == (404, {"errors": "Not Found"})
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"errors": "Method Not Allowed"},
    )
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD"}  # a set in Starlette


async def test_every_request_is_logged_in_order(shop: MiniShop) -> None:
    async with _client(shop) as client:
        await client.get(PATH, params={"limit": 2})
        await client.get("/other")
    assert [(r.method, r.path, r.query) for r in shop.requests] == [
        ("GET", PATH, "limit=2"),
        ("GET", "/other", ""),
    ]


def test_stamps_increase_by_milliseconds_while_the_clock_stands_still(shop: MiniShop) -> None:
    first, second = shop.stamp(), shop.stamp()
    assert (second - first).total_seconds() == 0.001
    assert first.microsecond % 1000 == 0 and first.tzinfo is not None
