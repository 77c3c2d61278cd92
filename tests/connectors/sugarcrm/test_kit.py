"""The SugarCRM connector passes the standard suite against its sandbox, every stream."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.sandbox import PASSWORD, USERNAME, SugarSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


def sugar_connector(
    sandbox: SugarSandbox, *, connection: str = "kit", **options: object
) -> SugarConnector:
    config = SugarConfig.model_validate(
        {
            "base_url": BASE_URL,
            "username": USERNAME,
            "password": SecretStr(PASSWORD),
            "page_size": 10,
            **options,
        }
    )
    return SugarConnector(
        config, connection=connection, transport=sandbox.transport(), clock=sandbox.clock
    )


class TestSugarConnector(ConnectorTestKit[SugarSandbox]):
    connector_class = SugarConnector
    streams = ("customers", "leads", "accounts", "cases")

    def make_sandbox(self, tmp_path: Path) -> SugarSandbox:
        return SugarSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: SugarSandbox) -> Connector:
        return sugar_connector(sandbox)
