"""The base of vendor sandboxes: an in-memory emulator of one vendor API, as an ASGI app.

The same object serves tests in-process (:meth:`Sandbox.transport`, no sockets,
optionally in virtual time) and people over loopback (``crmhub sandbox serve``,
see :mod:`hub.testing.serve`). A subclass supplies the vendor: its routes, its
error body, its authentication, its rate limit and its fake data. The base puts
in front of every route what a vendor's edge does before the route runs, in
that order: injected faults, authentication, the rate limit.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.http.clock import Clock, SystemClock
from hub.testing.faults import Fault, FaultPlan
from hub.testing.limits import RateLimit
from hub.testing.transport import ClientGaveUp, ConnectionDropped, SandboxTransport, client_deadline

__all__ = ["BASE_URL", "Sandbox", "SeenRequest"]

BASE_URL = "http://sandbox.test"
"""Where in-process clients address a sandbox (``.test`` never resolves on a network)."""

_TICK = timedelta(milliseconds=1)
_CODES = {404: "not_found", 405: "method_not_allowed"}


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """A request as the sandbox received it."""

    method: str
    path: str
    query: str


class Sandbox(ABC):
    """An emulated vendor: state in memory, seeded deterministically, faults on demand.

    It starts empty; :meth:`populate` adds fake people made from a seed, the
    same ones on every machine. ``clock`` drives timestamps, stalls and the
    rate limit; give tests a :class:`~hub.http.VirtualClock` so that throttling
    and timeouts take no real time.
    """

    limit: RateLimit | None = None
    """The vendor's request budget; None when the vendor publishes none."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.faults = FaultPlan()
        self.requests: list[SeenRequest] = []
        """Every request that reached the sandbox, in order, for tests to inspect."""
        routes = Starlette(routes=self.routes(), exception_handlers={HTTPException: self._refused})
        self.app: ASGIApp = _Edge(self, routes)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    # What a vendor subclass describes.

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The vendor's paths, with its parameters, paging and bodies."""

    @abstractmethod
    def populate(self, count: int, *, seed: int = 1) -> None:
        """Add ``count`` realistic customers (and what hangs off them) made from ``seed``."""

    @abstractmethod
    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """The vendor's error response: its body shape, its words for ``code``."""

    @abstractmethod
    def config_for(self, base_url: str) -> dict[str, Any]:
        """The ``config:`` block of a crmhub connection that talks to this sandbox.

        Secrets are written as ``${VAR}`` references, as a config file must;
        :meth:`environment` gives their values.
        """

    def environment(self) -> dict[str, str]:
        """Environment variables the :meth:`config_for` references need."""
        return {}

    def authenticate(self, request: Request) -> Response | None:
        """None when the request's credentials are good, else the vendor's refusal."""
        return None

    def throttled(self, retry_after: float) -> Response:
        """The vendor's answer to a request over its rate limit."""
        return self.error(
            429,
            "rate_limited",
            "Too many requests",
            headers={"Retry-After": str(math.ceil(retry_after))},
        )

    def expired_token(self) -> Response:
        """The vendor's answer to a token that has expired."""
        return self.error(401, "token_expired", "The access token expired")

    def outage(self, status: int) -> Response:
        """The vendor's answer when its servers fail."""
        return self.error(status, "server_error", "The server could not complete the request")

    async def _refused(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and methods get the vendor's error body, not Starlette's text."""
        assert isinstance(exc, HTTPException)
        code = _CODES.get(exc.status_code, "error")
        return self.error(exc.status_code, code, exc.detail, headers=exc.headers)

    # What tests and the CLI use.

    def transport(self) -> SandboxTransport:
        """An httpx transport that calls this sandbox in-process."""
        return SandboxTransport(self.app, self.clock)

    def client(self, **options: Any) -> httpx.AsyncClient:
        """A raw httpx client on this sandbox, for tests of the sandbox itself."""
        return httpx.AsyncClient(base_url=BASE_URL, transport=self.transport(), **options)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    def stamp(self) -> datetime:
        """A modification time: now, but always after the previous stamp.

        Vendors' ``updated_at`` filters are only gap-free if a later write never
        gets an earlier or equal time, so the sandbox keeps them increasing even
        when its clock stands still (a virtual clock between sleeps).
        """
        now = self.now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # vendors keep milliseconds
        self._last_stamp = max(now, self._last_stamp + _TICK)
        return self._last_stamp


class _Edge:
    """What runs before every route: log, faults, authentication, rate limit."""

    def __init__(self, sandbox: Sandbox, app: ASGIApp) -> None:
        self.sandbox = sandbox
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        request = Request(scope)
        sandbox.requests.append(SeenRequest(request.method, request.url.path, request.url.query))
        fault = sandbox.faults.take(request.method, request.url.path)
        if fault is not None and fault.kind == "delay":
            await self._stall(fault.seconds)
        elif fault is not None and fault.kind != "truncate":
            await self._fault_response(fault)(scope, receive, send)
            return
        refusal = sandbox.authenticate(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        headers: dict[str, str] = {}
        if sandbox.limit is not None:
            verdict = sandbox.limit.admit()
            headers = verdict.headers
            if not verdict.allowed:
                throttled = sandbox.throttled(verdict.retry_after)
                throttled.headers.update(headers)
                await throttled(scope, receive, send)
                return
        if fault is not None and fault.kind == "truncate":
            await self._truncated(scope, receive, send, headers)
        else:
            await self.app(scope, receive, _adding(send, headers))

    def _fault_response(self, fault: Fault) -> Response:
        if fault.kind == "throttle":
            return self.sandbox.throttled(fault.seconds)
        if fault.kind == "expire_token":
            return self.sandbox.expired_token()
        return self.sandbox.outage(fault.status or 500)

    async def _stall(self, seconds: float) -> None:
        clock, deadline = self.sandbox.clock, client_deadline()
        if deadline is not None and clock.monotonic() + seconds >= deadline:
            await clock.sleep(deadline - clock.monotonic())
            raise ClientGaveUp
        await clock.sleep(seconds)

    async def _truncated(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, _adding(keep, headers))
        start, *parts = messages
        body = b"".join(part.get("body", b"") for part in parts)
        await send(start)  # its Content-Length still promises the whole body
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        raise ConnectionDropped


def _adding(send: Send, headers: Mapping[str, str]) -> Send:
    """``send`` with ``headers`` added to the response start."""
    if not headers:
        return send
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped
