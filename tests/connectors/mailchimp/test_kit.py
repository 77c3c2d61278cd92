"""The Mailchimp connector passes the standard suite against its sandbox.

Members run the whole suite. Campaigns run what applies: Mailchimp has no
change filter for campaigns (report figures move for weeks), so each sync
reads them all; a changed report updates the stored campaign.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.mailchimp.connector import MailchimpConnector
from connectors.mailchimp.sandbox import MailchimpSandbox
from hub.connector import Connector
from hub.http import VirtualClock
from hub.model import CanonicalRecord, Channel, Consent, ConsentStatus
from hub.testing.kit import ConnectorTestKit
from hub.testing.samples import sample_customers
from tests.connectors.mailchimp.helpers import connector


class TestMailchimpMembers(ConnectorTestKit[MailchimpSandbox]):
    connector_class = MailchimpConnector
    streams = ("customers",)

    def make_sandbox(self, tmp_path: Path) -> MailchimpSandbox:
        return MailchimpSandbox(clock=VirtualClock())

    def make_connector(self, sandbox: MailchimpSandbox) -> Connector:
        return connector(sandbox, "kit")

    def samples(self, stream: str) -> list[CanonicalRecord]:
        """The kit's customers, with the opt-ins recorded: Mailchimp subscribes no one else."""
        recorded = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
        customers = sample_customers()
        for customer in customers:
            email = customer.consents[Channel.EMAIL]
            if email.status is ConsentStatus.SUBSCRIBED:
                customer.consents[Channel.EMAIL] = Consent(
                    status=email.status, recorded_at=recorded
                )
        return list(customers)


class TestMailchimpCampaigns(ConnectorTestKit[MailchimpSandbox]):
    connector_class = MailchimpConnector
    streams = ("campaigns",)
    unsupported = {
        "incremental": "Mailchimp offers no change filter for campaigns; every sync reads them all",
        "dead_letters": "the sandbox holds no campaign a mapping could refuse",
    }

    def make_sandbox(self, tmp_path: Path) -> MailchimpSandbox:
        sandbox = MailchimpSandbox(clock=VirtualClock())
        for number in range(25):
            sandbox.add_campaign(f"Newsletter {number}", sends=100 + number, opens=40, clicks=9)
        return sandbox

    def make_connector(self, sandbox: MailchimpSandbox) -> Connector:
        return connector(sandbox, "kit")
