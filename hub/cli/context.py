"""Loading what a command needs, in the order that keeps bad config harmless.

Plugins are discovered and the config validated before the store is opened or
any connector is built, so a config error never leaves half-done I/O behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from sqlmodel import SQLModel

from hub.cli.output import err_console, fail
from hub.config import HubConfig, load_config
from hub.errors import ConfigError
from hub.plugins import Plugins, load_plugins
from hub.store.database import Store, open_store, relative_to

__all__ = ["fetch_one", "load", "plugins_with_warnings", "store_for"]

Row = TypeVar("Row", bound=SQLModel)


def plugins_with_warnings() -> Plugins:
    plugins = load_plugins()
    for failure in plugins.failures:
        err_console.print(f"[yellow]warning:[/] {failure}", highlight=False)
    return plugins


def load(path: Path) -> tuple[HubConfig, Plugins]:
    if not path.exists():
        raise ConfigError(f"{path}: no such config file; create one with `crmhub init -c {path}`")
    plugins = plugins_with_warnings()
    return load_config(path, plugins), plugins


def store_for(path: Path) -> tuple[HubConfig, Plugins, Store]:
    config, plugins = load(path)
    return config, plugins, open_store(relative_to(config.store, path.parent))


def fetch_one(path: Path, model: type[Row], key: int, noun: str) -> Row:
    """One row by primary key, or a plain "no such" error."""
    _, _, store = store_for(path)
    with store.session() as session:
        row = session.get(model, key)
    if row is None:
        raise fail(f"no {noun} with id {key}")
    return row
