"""The vTiger connector passes the standard suite against its sandbox, every stream."""

from __future__ import annotations

from pathlib import Path

from connectors.vtiger.config import VtigerConfig
from connectors.vtiger.connector import VtigerConnector
from connectors.vtiger.sandbox import ACCESS_KEY, USERNAME, VtigerSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


def vtiger_connector(
    sandbox: VtigerSandbox, *, connection: str = "kit", **options: object
) -> VtigerConnector:
    config = VtigerConfig.model_validate(
        {"base_url": BASE_URL, "username": USERNAME, "access_key": ACCESS_KEY, **options}
    )
    return VtigerConnector(
        config, connection=connection, transport=sandbox.transport(), clock=sandbox.clock
    )


class TestVtigerConnector(ConnectorTestKit[VtigerSandbox]):
    connector_class = VtigerConnector

    def make_sandbox(self, tmp_path: Path) -> VtigerSandbox:
        return VtigerSandbox(clock=VirtualClock(), sync_limit=10)

    def make_connector(self, sandbox: VtigerSandbox) -> Connector:
        return vtiger_connector(sandbox)
