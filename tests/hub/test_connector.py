"""The connector contract's defaults: what a connector that opts out of a feature does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel

from hub.connector import Connector, Page, RawRecord, SourceRecord, WebhookRequest
from hub.errors import WebhookRejected
from hub.model import Customer, SegmentMembership


class _Settings(BaseModel):
    pass


class _ReadOnly(Connector):
    name = "readonly"
    config_model = _Settings
    reads = {"customers": Customer}

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        yield Page(records=[], cursor=None)

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        return SourceRecord(external_id=str(raw["id"]), record=Customer())


def _request() -> WebhookRequest:
    return WebhookRequest(method="POST", path="", headers={}, query={}, body=b"{}")


def test_a_connector_without_webhooks_rejects_every_delivery_by_name() -> None:
    connector = _ReadOnly(_Settings(), connection="crm")
    with pytest.raises(WebhookRejected, match="'readonly' does not receive webhooks"):
        connector.verify_webhook(_request())
    with pytest.raises(NotImplementedError):
        connector.webhook_pages(_request())


def test_a_segment_membership_carries_the_customer_and_refuses_a_bad_segment_name() -> None:
    person = Customer(emails=["Ann@Example.com"])
    joined = SegmentMembership(segment="at_risk", customer=person)
    assert joined.member is True
    assert joined.customer.emails == ["ann@example.com"]
    with pytest.raises(ValueError, match="segment"):
        SegmentMembership(segment="At Risk", customer=person)
