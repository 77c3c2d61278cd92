"""The Meta connector: lead ads and campaign reporting in, custom audiences out.

Leads never change once sent, so reading them is incremental by creation
time, per form. Meta lists a form's leads newest first, so the high-water mark
can only move once a walk through the pages is complete: until then the
cursor keeps the old mark and the ``after`` cursor of the next page (valid
only with the filter it was issued under, which is the old mark), and the
newest time seen so far. Creation times have whole seconds, so the next walk
asks from the mark's second inclusive and drops the ids already read in it.

The leadgen webhook carries only ids (see :mod:`connectors.meta.webhooks`).

Insights are lifetime totals that Meta keeps revising (late attribution),
so every pull reads them all; the cursor only resumes an interrupted walk.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

import httpx
from pydantic import BaseModel

from connectors.meta.audiences import AudienceWriter
from connectors.meta.client import MetaClient
from connectors.meta.config import MetaConfig
from connectors.meta.mapping import Lead, campaign_of, lead_reference, lead_to_customer, meta_time
from connectors.meta.sandbox import MetaSandbox
from connectors.meta.webhooks import leadgen_changes, verify
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
from hub.errors import ConfigError
from hub.http import Clock
from hub.model import Campaign, CanonicalRecord, Customer, Interaction, SegmentMembership
from hub.testing.sandbox import Sandbox

__all__ = ["MetaConnector"]


@dataclass(frozen=True, slots=True)
class _FormCursor:
    since: int | None = None
    seen: tuple[str, ...] = ()
    after: str | None = None
    top: int | None = None
    top_seen: tuple[str, ...] = ()

    def already_read(self, lead: Lead) -> bool:
        return _epoch(lead) == self.since and lead.get("id") in self.seen

    def after_page(self, leads: list[Lead], after: str | None) -> _FormCursor:
        top, top_seen = self.top, list(self.top_seen)
        for lead in leads:
            at = _epoch(lead)
            if at is None:
                continue
            if top is None or at > top:
                top, top_seen = at, [str(lead["id"])]
            elif at == top:
                top_seen.append(str(lead["id"]))
        if after is not None:
            return replace(self, after=after, top=top, top_seen=tuple(top_seen))
        if top is None or (self.since is not None and top < self.since):
            return _FormCursor(self.since, self.seen)
        seen = tuple(top_seen) + (self.seen if top == self.since else ())
        return _FormCursor(top, seen)


@dataclass(frozen=True, slots=True)
class _LeadsCursor:
    forms: dict[str, _FormCursor] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> _LeadsCursor:
        saved = json.loads(text) if text else {}
        return cls(
            {
                form: _FormCursor(
                    state["since"],
                    tuple(state["seen"]),
                    state["after"],
                    state["top"],
                    tuple(state["top_seen"]),
                )
                for form, state in saved.items()
            }
        )

    def dump(self) -> str:
        return json.dumps({form: asdict(state) for form, state in self.forms.items()})


def _epoch(lead: Lead) -> int | None:
    try:
        return int(meta_time(lead.get("created_time")).timestamp())
    except ValueError:
        return None


class MetaConnector(Connector):
    name = "meta"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = MetaConfig
    reads = {"leads": Customer, "campaigns": Campaign, "lead_events": Interaction}
    writes = {"segment_members": SegmentMembership}
    deletes = frozenset({"segment_members"})
    pulls_after_webhook = frozenset({"leads"})  # a leadgen delivery names the lead, no answers
    sandbox: ClassVar[type[Sandbox]] = MetaSandbox

    config: MetaConfig

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
        self.client = MetaClient(
            self.config, connection=connection, transport=transport, clock=clock
        )
        self.audiences = AudienceWriter(self.client, self.config)

    @classmethod
    def streams_offered(cls, settings: BaseModel) -> set[str]:
        """``lead_events`` come only from webhooks; the others need what they read."""
        assert isinstance(settings, MetaConfig)
        offered = {"segment_members"} if settings.ad_account_id or settings.audiences else set()
        if settings.form_ids:
            offered.add("leads")
        if settings.ad_account_id:
            offered.add("campaigns")
        return offered

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        if stream == "leads":
            async for page in self._leads(cursor):
                yield page
        elif stream == "campaigns":
            async for page in self._campaigns(cursor):
                yield page
        elif stream != "lead_events":  # webhook-only: there is nothing to poll
            raise ValueError(f"connector 'meta' has no stream {stream!r}")

    async def _leads(self, cursor: str | None) -> AsyncIterator[Page]:
        state = _LeadsCursor.load(cursor)
        for form in self.config.form_ids:
            start = state.forms.get(form, _FormCursor())
            created_after = start.since - 1 if start.since is not None else None
            form_state = start
            async for leads, after in self.client.leads(
                form, created_after=created_after, after=start.after
            ):
                fresh = [lead for lead in leads if not start.already_read(lead)]
                form_state = form_state.after_page(fresh, after)
                state = _LeadsCursor({**state.forms, form: form_state})
                yield Page(records=fresh, cursor=state.dump())

    async def _campaigns(self, cursor: str | None) -> AsyncIterator[Page]:
        account = self.config.ad_account_id
        if account is None:
            raise ConfigError(
                f"crmhub: connection {self.connection!r}: campaigns need ad_account_id "
                "in the config"
            )
        saved = json.loads(cursor) if cursor else {}
        levels = list(self.config.insights_levels)
        start = levels.index(saved["level"]) if saved.get("level") in levels else 0
        for index, level in enumerate(levels[start:], start):
            after = saved.get("after") if index == start else None
            async for rows, following in self.client.insights(account, level=level, after=after):
                records = [{**row, "level": level} for row in rows]
                if following is not None:
                    resume: str | None = json.dumps({"level": level, "after": following})
                elif index + 1 < len(levels):
                    resume = json.dumps({"level": levels[index + 1], "after": None})
                else:
                    resume = None  # a complete read: the next one starts over
                yield Page(records=records, cursor=resume)

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        if stream == "leads":
            lead_id, data = lead_to_customer(raw, consent_keys=self.config.consent)
            customer = Customer.model_validate(
                data, context={"default_region": self.default_region}
            )
            return SourceRecord(lead_id, customer, customer.updated_at)
        if stream == "campaigns":
            level = str(raw.get("level") or "campaign")
            external_id, values = campaign_of(
                raw, level=level, currency=raw.get("account_currency")
            )
            return SourceRecord(external_id, Campaign.model_validate(values))
        if stream == "lead_events":
            event = Interaction.model_validate(
                {
                    "kind": "lead",
                    "occurred_at": raw["created_time"],
                    "customer_ref": raw["id"],
                    "channel": "meta",
                    "campaign_ref": raw.get("ad_id"),
                    "details": {k: v for k, v in raw.items() if k.endswith("_id")},
                }
            )
            return SourceRecord(f"leadgen:{raw['id']}", event, event.occurred_at)
        raise ValueError(f"connector 'meta' does not read {stream!r}")

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        if not isinstance(record, SegmentMembership):
            raise TypeError(
                f"stream {stream!r} writes segment memberships, not {type(record).__name__}"
            )
        return self.audiences.row_of(record)

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        if stream != "segment_members":
            raise NotImplementedError(f"connector 'meta' does not write {stream!r}")
        return await self.audiences.write(changes)

    def verify_webhook(self, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
        return verify(
            request, app_secret=self.config.app_secret, verify_token=self.config.verify_token
        )

    def webhook_pages(self, request: WebhookRequest) -> list[tuple[str, Page]]:
        """The leads a delivery announces, as ``lead_events`` references (see module doc)."""
        references = [
            lead_reference(entry, value) for entry, value in leadgen_changes(request.body)
        ]
        return [("lead_events", Page(records=references, cursor=None))] if references else []

    async def aclose(self) -> None:
        await self.client.aclose()
