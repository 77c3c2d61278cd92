"""The Mailchimp connector: one audience's members as customers, campaigns, e-mail activity.

Reads are incremental where Mailchimp offers a filter: members by
``last_changed`` (see :mod:`connectors.mailchimp.cursors`), e-mail activity by
event time. Campaigns have no change filter and their report figures move for
weeks after sending, so each sync reads them all; the engine skips the
unchanged ones by fingerprint.

Writes are upserts by subscriber hash (PUT), then the tag changes that make
the member's tags the hub's. Hub segments become member tags or static
segments (``segments_as``). A push of more members than ``batch_threshold``
goes through /batches. Erasure is Mailchimp's permanent delete, after which
the address can only come back by the person's own signup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from connectors.mailchimp import webhooks
from connectors.mailchimp.client import MailchimpClient
from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.cursors import ActivityCursor, MemberCursor, later
from connectors.mailchimp.mapping import (
    campaign_to_canonical,
    customer_to_member,
    held_address,
    held_attributes,
    held_fields,
    interaction_to_canonical,
    member_to_customer,
)
from connectors.mailchimp.sandbox import MailchimpSandbox
from connectors.mailchimp.segments import StaticSegmentWriter
from connectors.mailchimp.writer import MemberWriter
from hub.connector import (
    Change,
    Connector,
    Page,
    RawRecord,
    SourceRecord,
    WebhookDelivery,
    WebhookReply,
    WebhookRequest,
    WriteResult,
)
from hub.http import Clock
from hub.model import Campaign, CanonicalRecord, Customer, Interaction, SegmentMembership
from hub.testing.sandbox import Sandbox

__all__ = ["MailchimpConnector"]


class MailchimpConnector(Connector):
    name = "mailchimp"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = MailchimpConfig
    reads = {"customers": Customer, "campaigns": Campaign, "email_activity": Interaction}
    writes = {"customers": Customer, "segment_members": SegmentMembership}
    deletes = frozenset({"customers"})
    push_batch_size = 500  # past batch_threshold (200), so a large push goes through /batches
    sandbox: ClassVar[type[Sandbox]] = MailchimpSandbox

    config: MailchimpConfig

    def __init__(
        self,
        config: BaseModel,
        *,
        connection: str,
        default_region: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, connection=connection, default_region=default_region)
        self.client = MailchimpClient(
            self.config, connection=connection, transport=transport, clock=clock
        )
        self.writer = MemberWriter(self.client, self.config)
        self.segments = StaticSegmentWriter(self.client)

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """A member has one PHONE and one ADDRESS merge field: the first of each, as read back.

        Attributes are the ones it holds (:func:`held_attributes`); with a
        birthday-type merge field the birth date is held as its month and day.

        Of the consents, only e-mail's is written (as the status): SMS has no
        place on a member, and the marketing permissions read as post and
        advertising consents cannot be set through the API. E-mails stay
        whole: the writer keeps a linked member on the address it was linked
        by, which need not be the first.
        """
        view = dict(data)
        if data.get("phones"):
            view["phones"] = data["phones"][:1]
        if data.get("addresses"):
            view["addresses"] = held_address(data["addresses"])
        if "consents" in data:
            email = (data["consents"] or {}).get("email")
            view["consents"] = {"email": email} if email else {}
        merge_fields = self.config.merge_fields
        if "attributes" in data or "birth_date" in data:
            view.pop("attributes", None)
            if attributes := held_attributes(data, merge_fields):
                view["attributes"] = attributes
        if "birthday" in merge_fields.values():
            view.pop("birth_date", None)  # a birthday field holds its month and day only
        return view

    def fields_held(self, stream: str) -> frozenset[str] | None:
        return held_fields(self.config.merge_fields) if stream == "customers" else None

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        if stream == "customers":
            pages = self._members(cursor)
        elif stream == "campaigns":
            pages = self._campaigns(cursor)
        elif stream == "email_activity":
            pages = self._activity(cursor)
        else:
            raise ValueError(f"the Mailchimp connector does not read {stream!r}")
        async for page in pages:
            yield page

    async def _members(self, cursor: str | None) -> AsyncIterator[Page]:
        start = state = MemberCursor.load(cursor)
        pages = self.client.member_pages(since=start.since, offset=start.offset)
        async for members, next_offset in pages:
            fresh = [m for m in members if not start.already_read(m)]
            state = state.after(fresh, next_offset)
            yield Page(records=fresh, cursor=state.dump())

    async def _campaigns(self, cursor: str | None) -> AsyncIterator[Page]:
        offset = int(cursor) if cursor else 0
        async for campaigns, next_offset in self.client.campaign_pages(offset=offset):
            records = []
            for campaign in campaigns:
                report = (
                    await self.client.report(str(campaign["id"]))
                    if campaign.get("send_time")
                    else {}
                )
                records.append({**campaign, "report": report})
            yield Page(records=records, cursor=None if next_offset is None else str(next_offset))

    async def _activity(self, cursor: str | None) -> AsyncIterator[Page]:
        state = ActivityCursor.load(cursor)
        campaign_ids = [
            str(c["id"])
            async for page, _ in self.client.campaign_pages(offset=0)
            for c in page
            if c.get("send_time")
        ]
        for campaign_id in campaign_ids:
            if campaign_id in state.done:
                continue
            offset = state.offset if campaign_id == state.campaign else 0
            pages = self.client.activity_pages(campaign_id, since=state.since, offset=offset)
            async for emails, next_offset in pages:
                events = [
                    {**{k: v for k, v in email.items() if k != "activity"}, **event}
                    for email in emails
                    for event in email.get("activity") or []
                ]
                mark = state.mark
                for event in events:
                    mark = later(mark, event.get("timestamp"))
                state = ActivityCursor(state.since, mark, state.done, campaign_id, next_offset or 0)
                if next_offset is None:
                    state = ActivityCursor(state.since, mark, (*state.done, campaign_id))
                yield Page(records=events, cursor=state.dump())
        yield Page(records=[], cursor=ActivityCursor(state.mark or state.since, state.mark).dump())

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "campaigns":
            external_id, data = campaign_to_canonical(raw)
            campaign = Campaign.model_validate(data)
            return SourceRecord(external_id, campaign, campaign.sent_at)
        if stream == "email_activity":
            external_id, data = interaction_to_canonical(raw)
            interaction = Interaction.model_validate(data)
            return SourceRecord(external_id, interaction, interaction.occurred_at)
        external_id, data = member_to_customer(raw, self.connection, self.config.merge_fields)
        customer = Customer.model_validate(data, context={"default_region": self.default_region})
        return SourceRecord(external_id, customer, customer.updated_at)

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if isinstance(record, SegmentMembership):  # what the segment or tags endpoint is sent
            if self.config.segments_as == "static_segments":
                return {"static_segment": record.segment, "member": record.member}
            return {"tags": [{"name": record.segment, "active": record.member}]}
        if not isinstance(record, Customer):
            raise TypeError(f"stream {stream!r} writes customers, not {type(record).__name__}")
        return customer_to_member(
            record, self.config.merge_fields, without_consent=self.config.without_consent
        )

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        if stream == "segment_members" and self.config.segments_as == "static_segments":
            return await self.segments.write(changes)
        if stream == "segment_members":
            return [await self.writer.segment_tag(change) for change in changes]
        if stream != "customers":
            raise ValueError(f"the Mailchimp connector does not write {stream!r}")
        return await self.writer.write(changes, self.from_canonical)

    def verify_webhook(self, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
        return webhooks.verify(request, self.config.webhook_secret, self.connection)

    def webhook_pages(self, request: WebhookRequest) -> list[tuple[str, Page]]:
        return webhooks.webhook_pages(request)

    async def aclose(self) -> None:
        await self.client.aclose()
