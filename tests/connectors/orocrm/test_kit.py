"""The OroCRM connector passes the standard suite against its sandbox."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.orocrm.config import OroConfig
from connectors.orocrm.connector import OroConnector
from connectors.orocrm.sandbox import CLIENT_ID, CLIENT_SECRET, OroSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


class TestOroConnector(ConnectorTestKit[OroSandbox]):
    connector_class = OroConnector

    def make_sandbox(self, tmp_path: Path) -> OroSandbox:
        return OroSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: OroSandbox) -> Connector:
        config = OroConfig(
            base_url=BASE_URL,
            client_id=CLIENT_ID,
            client_secret=SecretStr(CLIENT_SECRET),
            page_size=10,
        )
        return OroConnector(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )
