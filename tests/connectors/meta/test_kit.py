"""The Meta connector passes the standard suite against its sandbox (lead forms)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.meta.config import MetaConfig
from connectors.meta.connector import MetaConnector
from connectors.meta.sandbox import ACCOUNT, FORMS, TOKEN, MetaSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL

_IMMUTABLE = "a lead never changes at Meta; a new submission is a new lead (test_connector.py)"


class TestMetaConnector(ConnectorTestKit[MetaSandbox]):
    connector_class = MetaConnector
    streams = ["leads"]
    unsupported = {"change": _IMMUTABLE, "incremental": _IMMUTABLE}

    def make_sandbox(self, tmp_path: Path) -> MetaSandbox:
        return MetaSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: MetaSandbox) -> Connector:
        config = MetaConfig(
            base_url=BASE_URL,
            access_token=SecretStr(TOKEN),
            form_ids=list(FORMS),
            ad_account_id=ACCOUNT,
            page_size=5,
        )
        return MetaConnector(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )
