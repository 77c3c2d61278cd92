"""Where the CLI's log goes and how it looks: rich lines for people, JSON lines for pipelines.

``--log-format`` on the command line wins; without it a long-running command
takes ``service.log_format`` from the config, which is only known once the
config is loaded, so the handler is set up twice: by the root callback, then
again by ``crmhub run`` and ``crmhub worker`` with the config's secrets to mask.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rich.logging import RichHandler
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hub.cli.output import err_console
from hub.config import HubConfig
from hub.logs import JsonFormatter, SecretMask
from hub.redact import secret_values

__all__ = ["LogFormat", "configure", "for_service"]

LogFormat = Literal["text", "json"]


@dataclass
class _Chosen:
    """What the root callback was given, for the commands that configure again."""

    level: int = logging.WARNING
    log_format: LogFormat | None = None


_chosen = _Chosen()


def configure(level: int, log_format: LogFormat | None) -> None:
    """Replace the root handler; ``log_format`` None means "not given on the command line"."""
    _chosen.level, _chosen.log_format = level, log_format
    _install(level, log_format or "text", ())


def for_service(config: HubConfig) -> None:
    """Apply the config's ``service.log_format`` (unless the CLI chose one) and mask its secrets."""
    log_format = _chosen.log_format or config.service.log_format
    _install(_chosen.level, log_format, _config_secrets(config))


def _config_secrets(config: HubConfig) -> list[str]:
    """Every connection's secret values and the store URL's password."""
    found = [
        value
        for connection in config.connections.values()
        for value in secret_values(connection.settings)
    ]
    try:
        password = make_url(config.store).password
    except ArgumentError:  # not a URL SQLAlchemy reads: then it holds no password either
        password = None
    return [*found, *([str(password)] if password else [])]


def _install(level: int, log_format: LogFormat, secrets: Iterable[str]) -> None:
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(err_console.file)
        handler.setFormatter(JsonFormatter())
    else:
        handler = RichHandler(
            console=err_console, show_path=False, show_time=level < logging.WARNING
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(SecretMask(secrets))
    logging.basicConfig(level=level, force=True, handlers=[handler])
