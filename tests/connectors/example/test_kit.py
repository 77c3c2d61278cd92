"""The example connector passes the standard suite against its sandbox."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import TOKEN, ExampleSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


class TestExampleConnector(ConnectorTestKit[ExampleSandbox]):
    connector_class = ExampleConnector

    def make_sandbox(self, tmp_path: Path) -> ExampleSandbox:
        return ExampleSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: ExampleSandbox) -> Connector:
        config = ExampleConfig(base_url=BASE_URL, api_token=SecretStr(TOKEN), page_size=10)
        return ExampleConnector(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )
