"""uvicorn inside a service's own event loop, started and stopped by the service.

Both long-running modes serve the same app (webhooks, health, metrics) beside
their real work, and both decide themselves how SIGTERM stops that work, so
uvicorn is started as a task with its signal handling switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["HttpServer"]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides how to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, lifespan="off", log_level="warning")
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen, and return the port bound (``port: 0`` picks a free one)."""
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                await self.task  # raises why it could not start (port taken ...)
                raise RuntimeError("the HTTP endpoint stopped while starting")
            await asyncio.sleep(0.01)
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def close(self) -> None:
        """Stop accepting calls; the ones being answered finish."""
        self.server.should_exit = True

    async def stop(self) -> None:
        self.close()
        if self.task is not None:
            await self.task
