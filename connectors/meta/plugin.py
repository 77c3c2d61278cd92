"""Registers the Meta connector through the same entry point a third party uses."""

from __future__ import annotations

from connectors.meta.connector import MetaConnector
from hub.connector import Connector
from hub.plugins import hookimpl


@hookimpl
def crmhub_connectors() -> list[type[Connector]]:
    return [MetaConnector]
