"""Registers the OroCRM connector through the same entry point a third party uses."""

from __future__ import annotations

from connectors.orocrm.connector import OroConnector
from hub.connector import Connector
from hub.plugins import hookimpl


@hookimpl
def crmhub_connectors() -> list[type[Connector]]:
    return [OroConnector]
