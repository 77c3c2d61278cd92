"""The connector contract: the small surface a plugin author implements.

A connector describes a vendor: its config model, the streams it reads and
writes, how one vendor record maps to a canonical record and back, and how to
fetch and send pages. Paging state, retries, identity, merging and storage are
the engine's job, so a connector never sees the store.

The engine calls :meth:`Connector.to_canonical` itself, record by record, so a
mapping failure sends that record (with its raw payload) to dead letters while
the rest of the page goes on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from hub.errors import WebhookRejected
from hub.model import CanonicalRecord, SegmentMembership

if TYPE_CHECKING:
    from hub.testing.sandbox import Sandbox

__all__ = [
    "Change",
    "Connector",
    "Page",
    "SourceRecord",
    "WebhookDelivery",
    "WebhookReply",
    "WebhookRequest",
    "WriteResult",
]

RawRecord = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of vendor records and the cursor that resumes *after* it.

    The engine stores ``cursor`` in the same transaction as the page's records,
    so a crash never skips or repeats a page. ``deleted`` lists external ids the
    vendor reports as gone (tombstones, a full reconciliation's missing ids).
    """

    records: list[RawRecord]
    cursor: str | None
    deleted: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A vendor record mapped into the canonical model, with its vendor id."""

    external_id: str
    record: CanonicalRecord
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One record to write to a connection.

    ``external_id`` is the vendor id from the link table when the hub already
    knows where this record lives there, so the write is an update, not a create.
    """

    hub_id: str
    record: CanonicalRecord
    external_id: str | None = None
    op: Literal["upsert", "delete"] = "upsert"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one :class:`Change`; ``error`` set means the vendor refused it."""

    hub_id: str
    external_id: str | None
    error: str | None = None
    written: RawRecord | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A vendor's HTTP call to ``/webhooks/{connection}[/{path}]``, as received.

    ``body`` is the raw bytes, because signatures (Shopify, Meta) are computed
    over them; ``headers`` has lower-case names; ``path`` is what follows the
    connection name (Mailchimp's secret path token lives there).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """An answer the endpoint gives at once without storing anything (subscription challenges)."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """A verified delivery: stored in the inbox under ``delivery_id``, then acknowledged.

    The same ``delivery_id`` arriving twice (vendors retry) is processed once.
    """

    delivery_id: str


class Connector(ABC):
    """Base class for every connector, built in or third party.

    Subclasses set the class attributes and implement :meth:`read` and
    :meth:`to_canonical`; connectors that push also implement
    :meth:`from_canonical` and :meth:`write`.
    """

    name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    reads: ClassVar[Mapping[str, type[CanonicalRecord]]] = {}
    writes: ClassVar[Mapping[str, type[CanonicalRecord]]] = {}
    deletes: ClassVar[frozenset[str]] = frozenset()
    pulls_after_webhook: ClassVar[frozenset[str]] = frozenset()
    """Streams to pull once a delivery was applied: for vendors whose webhooks carry
    only ids (Meta's leadgen), the data arrives with the pull the delivery starts."""
    push_batch_size: ClassVar[int] = 100
    """Pending changes the engine hands to one :meth:`write`: larger for vendors whose
    bulk endpoint pays only past a size (Mailchimp's batch operations)."""
    sandbox: ClassVar[type[Sandbox] | None] = None
    pure_mapping: ClassVar[bool] = False
    """True when :meth:`to_canonical` depends on nothing but the payload and the constructor's
    arguments (settings, connection name, default region), never on state a read gathered:
    the engine may then map a big pull's customers in a worker process, with a copy of the
    connector built there from the same arguments (hub/engine/mapworker.py)."""

    @classmethod
    def streams_offered(cls, settings: BaseModel) -> set[str]:
        """The streams a connection with these settings can sync.

        All of them by default; a connector whose streams depend on its settings
        (a file connector without an orders file) narrows this, so a config
        that does not list streams gets only the ones that can work.
        """
        return set(cls.reads) | set(cls.writes)

    def fields_held(self, stream: str) -> frozenset[str] | None:
        """Canonical top-level fields this connection stores for ``stream`` (None: all).

        ``field.key`` names one key of an object field, such as
        ``recommendations.next_best_product`` for a tool that shows only that.
        The push compares only these with what the remote last held, so a
        change to a field the remote does not keep writes nothing there.
        """
        return None

    def held_view(self, stream: str, data: dict[str, Any]) -> dict[str, Any]:
        """A canonical dict (already cut to :meth:`fields_held`) as this connection can hold it.

        A shop that keeps one e-mail and one phone per customer overrides this
        to keep the first of each. The push compares this view of the hub's
        record with the same view of what the remote last held, so a second
        phone it can never store is not written again on every pass; a pull
        queues a change for this connection only if it moves this view. The
        kit's round trip compares through it too. The default holds everything.
        """
        return data

    def writes_to(self, stream: str, external_id: str) -> bool:
        """Whether a push of ``stream`` may update the remote record linked as ``external_id``.

        A connection that reads people from several kinds of record (Oro's
        contacts and the Magento customers it keeps) links them all to the
        one hub customer, but writes only one kind; the push then takes the
        link this says it writes, never another. The default: every link.
        """
        return True

    def __init__(
        self, config: BaseModel, *, connection: str, default_region: str | None = None
    ) -> None:
        self.config = config
        self.connection = connection
        self.default_region = default_region

    @abstractmethod
    def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        """Yield pages of ``stream`` that changed after ``cursor`` (all when None)."""

    @abstractmethod
    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        """Map one vendor record; raise ValueError or RecordError when it cannot be."""

    def from_canonical(self, stream: str, record: CanonicalRecord) -> RawRecord:
        """Map a canonical record to the vendor's shape for writing.

        A segment membership renders as its segment and state by default; a
        connector whose remote keeps more (Meta's hashed identifiers) renders
        that instead, since the hub compares renderings to skip unchanged ones.
        """
        if isinstance(record, SegmentMembership):
            return {"segment": record.segment, "member": record.member}
        raise NotImplementedError(f"connector {self.name!r} does not write {stream!r}")

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """Upsert or delete ``changes`` idempotently; one result per change."""
        raise NotImplementedError(f"connector {self.name!r} does not write {stream!r}")

    def verify_webhook(self, request: WebhookRequest) -> WebhookDelivery | WebhookReply:
        """Check a webhook call before anything is stored.

        Return a :class:`WebhookDelivery` to store and process it, or a
        :class:`WebhookReply` to answer a verification call (Meta's
        ``hub.challenge``, Mailchimp's validation GET). Raise
        :class:`hub.errors.WebhookRejected` when the signature or token is
        wrong. Runs on the request path: no network calls here.
        """
        raise WebhookRejected(f"connector {self.name!r} does not receive webhooks")

    def webhook_pages(self, request: WebhookRequest) -> list[tuple[str, Page]]:
        """Turn a stored delivery into ``(stream, page)`` pairs for the pull pipeline.

        Pages from webhooks carry ``cursor=None``: they never move a stream's
        cursor, so a later pull still reads everything after the last one.
        """
        raise NotImplementedError(f"connector {self.name!r} does not receive webhooks")

    async def aclose(self) -> None:  # noqa: B027  (optional hook, not abstract)
        """Release network clients and files; called once after a run."""
