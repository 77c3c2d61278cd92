"""`crmhub run` and `crmhub worker`: the long-running modes, on the same config."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.context import load
from hub.cli.logsetup import for_service
from hub.cli.output import ConfigOption, fail, reports_errors
from hub.config import HubConfig
from hub.plugins import Plugins
from hub.store.database import Store, open_store, relative_to

__all__ = ["run_command", "worker_command"]

PortOption = Annotated[
    int | None,
    typer.Option(
        "--port", min=0, max=65535, help="Serve on this port instead of service.port (0: any)"
    ),
]


def _open(path: Path) -> tuple[HubConfig, Plugins, Store]:
    """Config, then the log as it asks, then the store (whose migrations already log).

    A service is watched through its log: it says what each run did, unless
    -v asked for more; the log's format may come from the config, and the
    config's secrets are masked in it.
    """
    config, plugins = load(path)
    for_service(config)
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        logging.getLogger("hub").setLevel(logging.INFO)
    return config, plugins, open_store(relative_to(config.store, path.parent))


@reports_errors
def run_command(config: ConfigOption = Path("crmhub.yaml"), port: PortOption = None) -> None:
    """Keep every connection in step until SIGTERM: schedules, outbox, webhook endpoint.

    Each connection with a `schedule:` is pulled on it; the hub's changes are
    pushed as they happen; vendors' webhooks are received at
    http://HOST:PORT/webhooks/CONNECTION (`service:` in the config).
    """
    from hub.service.embedded import EmbeddedService

    hub_config, plugins, store = _open(config)
    if port is not None:
        hub_config.service.port = port
    try:
        asyncio.run(EmbeddedService(store, hub_config, plugins).run())
    finally:
        store.close()


@reports_errors
def worker_command(config: ConfigOption = Path("crmhub.yaml"), port: PortOption = None) -> None:
    """One of several workers sharing a PostgreSQL store, dispatched by procrastinate.

    Start as many as you like, on as many machines: each connection's streams
    run one at a time across all of them, and a worker that dies has its job
    retried by another. Each serves webhooks, /healthz, /readyz and /metrics
    as `crmhub run` does; give each worker on one machine its own --port.
    """
    hub_config, plugins, store = _open(config)
    if store.is_sqlite:
        store.close()
        raise fail(
            "crmhub worker needs a PostgreSQL store (store: postgresql://...); "
            "with SQLite, run one `crmhub run` instead",
            2,
        )
    try:
        from hub.service.worker import run_worker
    except ImportError as exc:
        raise fail(
            f"crmhub worker needs the postgres extra: pip install 'crmhub[postgres]' ({exc})", 2
        ) from None
    try:
        asyncio.run(run_worker(store, hub_config, plugins, port=port))
    finally:
        store.close()
