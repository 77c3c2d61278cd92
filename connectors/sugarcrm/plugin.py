"""Registers the SugarCRM connector through the same entry point a third party uses."""

from __future__ import annotations

from connectors.sugarcrm.connector import SugarConnector
from hub.connector import Connector
from hub.plugins import hookimpl


@hookimpl
def crmhub_connectors() -> list[type[Connector]]:
    return [SugarConnector]
