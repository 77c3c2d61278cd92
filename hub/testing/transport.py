"""The in-process way to reach a sandbox, with what a network would add.

``httpx.ASGITransport`` calls the app directly, so two failures of a real
connection could never happen in tests: the client giving up on a slow answer
(read timeout), and a body cut short by a dropped connection. This transport
tells the sandbox the client's deadline, on the sandbox's own clock, and turns
the sandbox's "gave up" and "dropped" signals into the httpx errors a real
socket raises. With a :class:`~hub.http.VirtualClock` a timeout costs no real
time.
"""

from __future__ import annotations

from contextvars import ContextVar

import httpx
from starlette.types import ASGIApp

from hub.http.clock import Clock

__all__ = ["ClientGaveUp", "ConnectionDropped", "SandboxTransport", "client_deadline"]

_deadline: ContextVar[float | None] = ContextVar("crmhub_sandbox_deadline", default=None)


class ClientGaveUp(Exception):
    """Raised by a sandbox that is still stalling when the client's read timeout ends."""


class ConnectionDropped(Exception):
    """Raised by a sandbox after it sent part of a body, as a connection that breaks."""


def client_deadline() -> float | None:
    """When the in-process client stops waiting (sandbox clock), or None over a real socket."""
    return _deadline.get()


class SandboxTransport(httpx.AsyncBaseTransport):
    """An ASGI transport to a sandbox app whose clock is ``clock``."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self._asgi = httpx.ASGITransport(app)
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions.get("timeout", {}).get("read")
        token = _deadline.set(None if read is None else self._clock.monotonic() + read)
        try:
            return await self._asgi.handle_async_request(request)
        except ClientGaveUp:
            raise httpx.ReadTimeout(
                f"no response within the read timeout of {read:g} s", request=request
            ) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None
        finally:
            _deadline.reset(token)

    async def aclose(self) -> None:
        await self._asgi.aclose()
