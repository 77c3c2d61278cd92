"""uvicorn inside a service's own event loop, started and stopped by the service.

Both long-running modes serve the same app (webhooks, health, metrics) beside
their real work, and both decide themselves how SIGTERM stops that work, so
uvicorn is started as a task with its signal handling switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from hub.errors import CrmhubError

__all__ = ["HttpServer"]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.host, self.port = host, port
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            log_config=None,  # uvicorn's lines go through the service's handler: JSON, masked
        )
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen, and return the port bound (``port: 0`` picks a free one).

        The socket is bound here rather than by uvicorn, which exits the whole
        process when the port is taken: this way the user reads why.
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise CrmhubError(
                f"cannot serve webhooks and metrics on {self.host}:{self.port}: "
                f"{exc.strerror}; choose another service.port (or --port; 0 takes any free one)"
            ) from None
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self.task.done():
                await self.task
                raise RuntimeError("the HTTP endpoint stopped while starting")
            await asyncio.sleep(0.01)
        return int(sock.getsockname()[1])

    def close(self) -> None:
        """Stop accepting calls; the ones being answered finish."""
        self.server.should_exit = True

    async def stop(self) -> None:
        self.close()
        if self.task is not None:
            await self.task
