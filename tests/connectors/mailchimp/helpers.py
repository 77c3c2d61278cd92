"""Building a Mailchimp connector on a sandbox, as every test file here does."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.connector import MailchimpConnector
from connectors.mailchimp.sandbox import API_KEY, LIST_ID, MailchimpSandbox
from hub.testing.sandbox import BASE_URL


def connector(
    sandbox: MailchimpSandbox, connection: str = "newsletter", **settings: Any
) -> MailchimpConnector:
    defaults = {
        "base_url": f"{BASE_URL}/3.0/",
        "api_key": SecretStr(API_KEY),
        "list_id": LIST_ID,
        "page_size": 10,
        "batch_poll_seconds": 1.0,
    }
    config = MailchimpConfig.model_validate(defaults | settings)
    return MailchimpConnector(
        config, connection=connection, transport=sandbox.transport(), clock=sandbox.clock
    )
