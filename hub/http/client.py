"""The one HTTP client a connection uses: limits, retries, errors and logs in one place.

Connectors call :meth:`ApiClient.get` and friends and get a successful
``httpx.Response`` back, or one of the :mod:`hub.errors` classes the engine
acts on. Everything between (waiting for rate-limit budget, sending, reading
the vendor's budget headers, classifying failures, retrying, logging with
credentials masked) happens here, the same way for every vendor.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack

import certifi
import httpx
from pydantic import SecretStr

from hub.errors import RetriableError
from hub.http.auth import SecretAuth
from hub.http.clock import Clock, SystemClock
from hub.http.policy import DEFAULT_POLICY, Action, ErrorPolicy
from hub.http.ratelimit import RateLimiter
from hub.http.redact import SECRET_HEADERS, SECRET_PARAMS, Redactor
from hub.http.retry import RetrySettings, UnsentError, retry_after, retrying

__all__ = ["ApiClient", "RequestOptions"]

log = logging.getLogger("crmhub.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RequestOptions(TypedDict, total=False):
    """What one request may carry besides method and URL; typed so mistakes fail in mypy."""

    params: Mapping[str, Any] | None
    json: Any
    content: bytes | str | None
    data: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    safe_to_retry: bool
    """Resend even a POST/PATCH on a passing failure: say so for upserts and queries."""
    cost: float | None
    """Rate-limit cost (e.g. a GraphQL query's estimate); None lets the limiter guess."""


class ApiClient:
    """An async httpx client bound to one connection of one vendor.

    ``auth`` adds the credentials to each request as it is sent; secrets it
    reports (see :class:`~hub.http.auth.SecretAuth`) and any passed in
    ``secrets`` are masked in every log line and error this client produces.
    The ``clock`` must be the limiter's (it defaults to it), so that waits and
    budget arithmetic share one timeline.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connection: str,
        auth: httpx.Auth | Callable[[httpx.Request], httpx.Request] | None = None,
        secrets: Iterable[SecretStr] = (),
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        limiter: RateLimiter | None = None,
        policy: ErrorPolicy = DEFAULT_POLICY,
        retry: RetrySettings | None = None,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        redact_headers: Iterable[str] = (),
        redact_params: Iterable[str] = (),
    ) -> None:
        if clock is not None and limiter is not None and limiter.clock is not clock:
            raise ValueError(
                f"connection {connection!r}: the limiter runs on another clock than the client; "
                "pass the same clock to both (or to the limiter only)"
            )
        self.connection = connection
        self.clock: Clock = clock or (limiter.clock if limiter else SystemClock())
        self.limiter = limiter or RateLimiter(clock=self.clock)
        self.policy = policy
        self.retry = retry or RetrySettings()
        extra = tuple(secrets)
        self.redactor = Redactor(
            lambda: (*(auth.secrets() if isinstance(auth, SecretAuth) else ()), *extra),
            headers=SECRET_HEADERS | {h.lower() for h in redact_headers},
            params=SECRET_PARAMS | {p.lower() for p in redact_params},
        )
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            transport=transport,
            verify=_tls_context(),
            headers={"Accept": "application/json", **(headers or {})},
        )

    async def request(
        self, method: str, url: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        """Send once the budget allows; retry what may be retried; raise a hub error on failure."""
        method = method.upper()
        safe_to_retry, cost = options.get("safe_to_retry", False), options.get("cost")

        async def attempt() -> httpx.Response:
            request = self._http.build_request(
                method,
                url,
                params=options.get("params"),
                json=options.get("json"),
                content=options.get("content"),
                data=options.get("data"),
                headers=options.get("headers"),
            )
            permit = await self.limiter.acquire(cost)
            started = self.clock.monotonic()
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                self.limiter.release(permit)
                raise self._transport_error(request, exc) from None
            self.limiter.observe(response, permit)
            self._log(response, self.clock.monotonic() - started)
            rule = self.policy.classify(response)
            if rule is None:
                return response
            wait = retry_after(response, self.clock)
            if rule.action is Action.BACKOFF and wait is not None:
                self.limiter.pause(wait)
            raise self.policy.error(
                rule,
                response,
                connection=self.connection,
                scrub=self.redactor.scrub,
                retry_after=wait,
            )

        return await retrying(
            attempt,
            method=method,
            safe_to_retry=safe_to_retry,
            settings=self.retry,
            clock=self.clock,
        )

    async def get(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("GET", url, **options)

    async def post(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def put(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("PUT", url, **options)

    async def patch(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("PATCH", url, **options)

    async def delete(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("DELETE", url, **options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _log(self, response: httpx.Response, elapsed: float) -> None:
        request = response.request
        log.debug(
            "%s: %s %s -> %d in %.3f s; request headers %s",
            self.connection,
            request.method,
            self.redactor.url(request.url),
            response.status_code,
            elapsed,
            self.redactor.headers(request.headers),
        )

    def _transport_error(self, request: httpx.Request, exc: httpx.TransportError) -> RetriableError:
        kind = UnsentError if isinstance(exc, _NOT_SENT) else RetriableError
        return kind(
            self.redactor.scrub(
                f"crmhub: connection {self.connection!r}: {request.method} {request.url} "
                f"failed: {type(exc).__name__}: {exc or 'no detail'}; check the network and "
                "the base URL; the run resumes from its last checkpoint"
            )
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process, shared by every client.

    Loading the CA bundle takes a tenth of a second or more, and the
    long-running modes build a client for every pull, push and inbox drain;
    building it each time made a webhook's trip to its target take most of a
    second (bench/service.py).
    """
    return ssl.create_default_context(cafile=certifi.where())
