"""Registers the openCRX connector through the same entry point a third party uses."""

from __future__ import annotations

from connectors.opencrx.connector import OpenCrxConnector
from hub.connector import Connector
from hub.plugins import hookimpl


@hookimpl
def crmhub_connectors() -> list[type[Connector]]:
    return [OpenCrxConnector]
