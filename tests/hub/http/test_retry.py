from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from hub.errors import AuthError, RecordError, RetriableError
from hub.http import ApiClient, RetrySettings, VirtualClock, retry_after

pytestmark = pytest.mark.anyio
MakeClient = Callable[..., ApiClient]


Handler = Callable[[httpx.Request], httpx.Response]


def scripted(
    *statuses: int | Exception, headers: dict[str, str] | None = None
) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with the given statuses in turn (the last one repeats)."""
    calls: list[httpx.Request] = []
    script = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        step = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(step, Exception):
            raise step
        extra = headers if step >= 400 else None
        return httpx.Response(step, json={"errors": f"Error {step}"}, headers=extra)

    return handler, calls


def http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


def with_retry_after(value: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": value}, request=httpx.Request("GET", "/"))


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("2.5", 2.5), ("-3", 0.0)])
async def test_retry_after_delta_seconds(clock: VirtualClock, value: str, seconds: float) -> None:
    assert retry_after(with_retry_after(value), clock) == seconds


async def test_retry_after_http_date(clock: VirtualClock) -> None:
    assert retry_after(with_retry_after(http_date(clock.time() + 30)), clock) == 30
    assert retry_after(with_retry_after(http_date(clock.time() - 30)), clock) == 0


async def test_retry_after_missing_or_unreadable(clock: VirtualClock) -> None:
    assert retry_after(with_retry_after("soon"), clock) is None
    no_header = httpx.Response(429, request=httpx.Request("GET", "/"))
    assert retry_after(no_header, clock) is None


async def test_5xx_then_success(make_client: MakeClient, clock: VirtualClock) -> None:
    handler, calls = scripted(503, 502, 200)
    response = await make_client(handler).get("customers.json")
    assert response.status_code == 200
    assert len(calls) == 3
    first, second = clock.sleeps
    assert 1 <= first <= 2 and 2 <= second <= 3  # exponential, plus up to 1 s of jitter


async def test_retry_after_seconds_is_honoured(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    handler, _ = scripted(429, 200, headers={"Retry-After": "7"})
    arrivals: list[float] = []

    def timed(request: httpx.Request) -> httpx.Response:
        arrivals.append(clock.monotonic())
        return handler(request)

    await make_client(timed).get("customers.json")
    assert arrivals == [0, 7]
    assert clock.sleeps == [7]


async def test_retry_after_http_date_is_honoured(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    handler, calls = scripted(503, 200, headers={"Retry-After": http_date(clock.time() + 20)})
    await make_client(handler).get("customers.json")
    assert len(calls) == 2
    assert clock.sleeps == [20]


async def test_post_is_not_retried(make_client: MakeClient) -> None:
    handler, calls = scripted(503, 200)
    with pytest.raises(RetriableError) as caught:
        await make_client(handler).post("customers.json", json={"customer": {}})
    assert len(calls) == 1
    assert "not retried: POST is not idempotent; pass safe_to_retry=True" in str(caught.value)


async def test_post_marked_safe_is_retried(make_client: MakeClient) -> None:
    handler, calls = scripted(503, 200)
    response = await make_client(handler).post("graphql.json", json={}, safe_to_retry=True)
    assert response.status_code == 200 and len(calls) == 2


async def test_post_is_resent_when_the_connection_never_opened(make_client: MakeClient) -> None:
    handler, calls = scripted(httpx.ConnectError("refused"), 201)
    response = await make_client(handler).post("customers.json", json={})
    assert response.status_code == 201 and len(calls) == 2


async def test_post_is_not_resent_after_a_read_timeout(make_client: MakeClient) -> None:
    handler, calls = scripted(httpx.ReadTimeout("slow"), 201)
    with pytest.raises(RetriableError, match="ReadTimeout"):
        await make_client(handler).post("customers.json", json={})
    assert len(calls) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
async def test_idempotent_methods_are_retried(make_client: MakeClient, method: str) -> None:
    handler, calls = scripted(500, 200)
    await make_client(handler).request(method, "customers/1.json")
    assert len(calls) == 2


async def test_exhausted_attempts_raise_a_plain_retriable_error(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    handler, calls = scripted(503)
    client = make_client(handler, retry=RetrySettings(max_attempts=4, jitter=0))
    with pytest.raises(RetriableError) as caught:
        await client.get("customers.json")
    assert len(calls) == 4
    assert clock.sleeps == [1, 2, 4]
    assert str(caught.value) == (
        "crmhub: connection 'shop': GET https://shop.example/admin/api/2024-01/customers.json "
        "-> HTTP 503: 'Error 503'; the run resumes from its last checkpoint "
        "(gave up after 4 attempts in 7.0 s)"
    )
    assert caught.value.__cause__ is None


async def test_elapsed_budget_stops_retries(make_client: MakeClient, clock: VirtualClock) -> None:
    handler, calls = scripted(500)
    settings = RetrySettings(max_attempts=100, max_elapsed=20, jitter=0)
    with pytest.raises(RetriableError, match="gave up after 5 attempts"):
        await make_client(handler, retry=settings).get("customers.json")
    assert len(calls) == 5
    assert clock.monotonic() <= 20  # 1 + 2 + 4 + 8 = 15; the next 16 s wait would pass 20


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    make_client: MakeClient, clock: VirtualClock
) -> None:
    handler, calls = scripted(429, headers={"Retry-After": "3600"})
    with pytest.raises(RetriableError) as caught:
        await make_client(handler).get("customers.json")
    assert len(calls) == 1 and clock.monotonic() == 0
    assert "the vendor asked to wait 3600 s, beyond the retry budget" in str(caught.value)
    assert caught.value.retry_after == 3600


async def test_auth_and_record_errors_are_not_retried(make_client: MakeClient) -> None:
    handler, calls = scripted(401)
    with pytest.raises(AuthError):
        await make_client(handler).get("customers.json")
    handler, more = scripted(422)
    with pytest.raises(RecordError, match="HTTP 422: 'Error 422'; the record goes to dead letters"):
        await make_client(handler).put("customers/1.json", json={})
    assert len(calls) == len(more) == 1


async def test_retries_are_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    handler, _ = scripted(503, 200)
    with caplog.at_level("WARNING", logger="crmhub.http"):
        await make_client(handler).get("customers.json")
    assert "HTTP 503" in caplog.text and "(retry 1 of 4 in" in caplog.text
