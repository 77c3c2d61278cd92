"""The SugarCRM connector passes the standard suite against its sandbox, every stream.

``segment_members`` is only written: it runs the checks that need no read
(a membership written twice, with or without the contact's id, relates
nothing new and creates no second Target List), the others skip.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from connectors.sugarcrm.config import SugarConfig
from connectors.sugarcrm.connector import SugarConnector
from connectors.sugarcrm.sandbox import PASSWORD, USERNAME, SugarSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.model import CanonicalRecord, Customer, SegmentMembership
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
    streams = ("customers", "leads", "accounts", "cases", "segment_members")

    def make_sandbox(self, tmp_path: Path) -> SugarSandbox:
        return SugarSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: SugarSandbox) -> Connector:
        return sugar_connector(sandbox)

    def samples_for(self, stream: str, sandbox: SugarSandbox) -> list[CanonicalRecord]:
        """Two seeded contacts join a segment and a third leaves it (it was never on it)."""
        if stream != "segment_members":
            return self.samples(stream)
        contacts = sorted(sandbox.modules["Contacts"])[:3]
        return [
            SegmentMembership(
                segment="kit_segment",
                member=number < 2,
                customer=Customer(last_name=f"Kit {number}"),
                customer_ref=contact,
            )
            for number, contact in enumerate(contacts)
        ]
