"""Serving a sandbox over loopback: the demo, benchmarks and trying a connector by hand.

Only 127.0.0.1 is ever bound. A sandbox accepts a well-known token and holds
fake people, so it has no business on a network interface.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from hub.testing.sandbox import Sandbox

__all__ = ["LOOPBACK", "running", "serve"]

LOOPBACK = "127.0.0.1"
_STARTUP = 10.0


def _server(sandbox: Sandbox, port: int) -> uvicorn.Server:
    # h11 checks Content-Length, so a truncated-body fault drops the connection as it should.
    config = uvicorn.Config(
        sandbox.app, host=LOOPBACK, port=port, http="h11", lifespan="off", log_level="warning"
    )
    return uvicorn.Server(config)


def serve(sandbox: Sandbox, *, port: int) -> None:
    """Serve until interrupted (Ctrl+C)."""
    _server(sandbox, port).run()


@contextmanager
def running(sandbox: Sandbox, *, port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL (port 0 picks a free one)."""
    server = _server(sandbox, port)
    thread = threading.Thread(target=server.run, name="crmhub-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the sandbox did not start on {LOOPBACK}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{LOOPBACK}:{bound}"
    finally:
        server.should_exit = True
        thread.join(_STARTUP)
