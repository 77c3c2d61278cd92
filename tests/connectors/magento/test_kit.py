"""The Magento connector passes the standard suite against its sandbox, for both streams."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.magento.config import MagentoConfig
from connectors.magento.connector import MagentoConnector
from connectors.magento.sandbox import TOKEN, MagentoSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


class TestMagentoConnector(ConnectorTestKit[MagentoSandbox]):
    connector_class = MagentoConnector

    def make_sandbox(self, tmp_path: Path) -> MagentoSandbox:
        return MagentoSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: MagentoSandbox) -> Connector:
        config = MagentoConfig(base_url=BASE_URL, access_token=SecretStr(TOKEN), page_size=10)
        return MagentoConnector(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )
