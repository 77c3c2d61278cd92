"""The openCRX connector passes the standard suite against its sandbox."""

from __future__ import annotations

from pathlib import Path

from connectors.opencrx.config import OpenCrxConfig
from connectors.opencrx.connector import OpenCrxConnector
from connectors.opencrx.sandbox import PASSWORD, USERNAME, OpenCrxSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


def opencrx_connector(sandbox: OpenCrxSandbox, *, connection: str = "kit") -> OpenCrxConnector:
    config = OpenCrxConfig.model_validate(
        {"base_url": BASE_URL, "username": USERNAME, "password": PASSWORD, "page_size": 10}
    )
    return OpenCrxConnector(
        config, connection=connection, transport=sandbox.transport(), clock=sandbox.clock
    )


class TestOpenCrxConnector(ConnectorTestKit[OpenCrxSandbox]):
    connector_class = OpenCrxConnector

    def make_sandbox(self, tmp_path: Path) -> OpenCrxSandbox:
        return OpenCrxSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: OpenCrxSandbox) -> Connector:
        return opencrx_connector(sandbox)
