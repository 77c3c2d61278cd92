"""The store's tables.

The canonical customer lives in ``customer.data`` as the JSON of
:class:`hub.model.Customer`, with the few columns that queries filter on copied
out. Orders, lines, campaigns and interactions are fully columnar because
analytics aggregate them in SQL. Everything the sync engine needs to resume,
merge and push safely (links with their base and shadow, provenance, cursors,
outbox) sits beside the data so one transaction covers a whole page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from hub.store.types import ScaledMoney, UtcDateTime

__all__ = [
    "Audit",
    "CampaignRow",
    "Conflict",
    "CustomerMetrics",
    "CustomerRow",
    "DeadLetter",
    "HubSetting",
    "Identifier",
    "InteractionRow",
    "Link",
    "OrderLineRow",
    "OrderRow",
    "Outbox",
    "Run",
    "SegmentMember",
    "SyncState",
    "Tombstone",
    "TriggerFiring",
    "WebhookInbox",
    "table_of",
]


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for batched inserts and updates."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _json_or_none() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    default = None if nullable else utcnow
    return Field(
        default_factory=default,
        sa_column=Column(UtcDateTime(), nullable=nullable, index=index),
    )


def _money(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(ScaledMoney(), nullable=nullable))


class CustomerRow(SQLModel, table=True):
    """A canonical customer; ``provenance`` maps each field to [source, observed_at].

    Provenance lives on the row rather than in a table of its own so that a
    page of customers is one row each to write, in the same statement as the
    data it describes. Only ``last_name`` (candidate matching) and
    ``updated_at`` (segments' changed-since) are indexed: every index is
    written on each insert, and e-mails are found through :class:`Identifier`.
    """

    __tablename__ = "customer"

    hub_id: str = Field(primary_key=True, max_length=32)
    data: dict[str, Any] = _json()
    provenance: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False, server_default=text("'{}'")),
    )
    first_name: str | None = None
    last_name: str | None = Field(default=None, index=True)
    primary_email: str | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)


class Identifier(SQLModel, table=True):
    """A normalised identifier (e-mail, E.164 phone, tax id ...) and its owner.

    ``shared`` marks a value seen on different people (a family address): it no
    longer links anyone, but stays so the next record carrying it is not
    linked by it either.
    """

    __tablename__ = "identifier"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identifier_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    value: str = Field(max_length=320)
    hub_id: str = Field(
        sa_column=Column(String(32), ForeignKey("customer.hub_id", ondelete="CASCADE"), index=True)
    )
    shared: bool = False


class Link(SQLModel, table=True):
    """Where a hub record lives in a connected system.

    ``base`` holds the fields as that source last gave them (the base of the
    three-way merge); ``shadow`` and ``pushed_hash`` what we last wrote there,
    so our own write read back is recognised as an echo.
    """

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint("connection", "object", "external_id", name="uq_link_external"),
        Index("ix_link_hub", "hub_id", "connection"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    object: str = Field(max_length=32)
    external_id: str = Field(max_length=255)
    hub_id: str = Field(max_length=32)
    base: dict[str, Any] = _json()
    seen_hash: str | None = Field(default=None, max_length=64)
    raw_hash: str | None = Field(
        default=None,
        max_length=64,
        description="Hash of the vendor payload seen_hash was mapped from (hub/engine/rawskip.py)",
    )
    shadow: dict[str, Any] | None = _json_or_none()
    pushed_hash: str | None = Field(default=None, max_length=64)
    deleted: bool = False
    seen_run: int | None = Field(default=None, description="Last full run that saw this record")
    updated_at: datetime = _ts()


class OrderRow(SQLModel, table=True):
    __tablename__ = "order"

    id: str = Field(primary_key=True, max_length=32)
    customer_hub_id: str | None = Field(default=None, index=True, max_length=32)
    source: str = Field(max_length=64)
    number: str | None = None
    placed_at: datetime = _ts(index=True)
    currency: str = Field(max_length=3)
    subtotal: Decimal | None = _money()
    discount: Decimal | None = _money()
    shipping: Decimal | None = _money()
    tax: Decimal | None = _money()
    total: Decimal = _money(nullable=False)
    refunded: Decimal | None = _money()
    status: str = Field(max_length=16)
    financial_status: str | None = None
    fulfillment_status: str | None = None
    channel: str | None = None
    cancelled_at: datetime | None = _ts(nullable=True)
    updated_at: datetime | None = _ts(nullable=True)


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(
        sa_column=Column(String(32), ForeignKey("order.id", ondelete="CASCADE"), index=True)
    )
    position: int
    sku: str | None = Field(default=None, index=True)
    product_id: str | None = None
    name: str
    category: str | None = None
    quantity: int
    unit_price: Decimal = _money(nullable=False)
    total: Decimal = _money(nullable=False)
    cost: Decimal | None = _money()


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"

    id: str = Field(primary_key=True, max_length=32)
    source: str = Field(max_length=64)
    name: str
    channel: str = Field(max_length=16)
    status: str | None = None
    sent_at: datetime | None = _ts(nullable=True)
    sends: int | None = None
    opens: int | None = None
    clicks: int | None = None
    unsubscribes: int | None = None
    bounces: int | None = None
    impressions: int | None = None
    leads: int | None = None
    spend: Decimal | None = _money()
    currency: str | None = Field(default=None, max_length=3)
    updated_at: datetime | None = _ts(nullable=True)


class InteractionRow(SQLModel, table=True):
    __tablename__ = "interaction"

    id: str = Field(primary_key=True, max_length=32)
    customer_hub_id: str | None = Field(default=None, index=True, max_length=32)
    kind: str = Field(max_length=16, index=True)
    occurred_at: datetime = _ts(index=True)
    source: str = Field(max_length=64)
    channel: str | None = None
    subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str | None = None
    campaign_ref: str | None = None
    details: dict[str, Any] = _json()


class SyncState(SQLModel, table=True):
    """A stream's cursor; written in the same transaction as the page it covers."""

    __tablename__ = "sync_state"

    connection: str = Field(primary_key=True, max_length=64)
    stream: str = Field(primary_key=True, max_length=64)
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = _ts()


class Run(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64, index=True)
    stream: str | None = Field(default=None, max_length=64)
    started_at: datetime = _ts(index=True)
    finished_at: datetime | None = _ts(nullable=True)
    status: str = Field(default="running", max_length=16)
    counts: dict[str, int] = _json()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Conflict(SQLModel, table=True):
    """A decision the rules would not take alone: a field, a consent or an identity."""

    __tablename__ = "conflict"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    hub_id: str | None = Field(default=None, index=True, max_length=32)
    field: str | None = Field(default=None, max_length=64)
    candidates: dict[str, Any] = _json()
    status: str = Field(default="open", max_length=16, index=True)
    resolution: dict[str, Any] | None = _json_or_none()
    run_id: int | None = None
    created_at: datetime = _ts()
    resolved_at: datetime | None = _ts(nullable=True)


class DeadLetter(SQLModel, table=True):
    """A record that could not be mapped, validated or written, kept with its reason."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64, index=True)
    stream: str = Field(max_length=64)
    external_id: str | None = Field(default=None, max_length=255)
    payload: dict[str, Any] = _json()
    error: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(default="invalid", max_length=32)
    status: str = Field(default="open", max_length=16, index=True)
    run_id: int | None = None
    created_at: datetime = _ts()


class Outbox(SQLModel, table=True):
    """A change waiting to be written to a connection, queued with the change itself."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "connection", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    stream: str = Field(max_length=64)
    hub_id: str = Field(max_length=32)
    op: str = Field(default="upsert", max_length=16)
    payload: dict[str, Any] = _json()
    origin: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _ts()


class Audit(SQLModel, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    hub_id: str | None = Field(default=None, max_length=32, index=True)
    details: dict[str, Any] = _json()


class Tombstone(SQLModel, table=True):
    """An erased person's identifier, as a salted hash: enough to refuse them, not to name them."""

    __tablename__ = "tombstone"

    digest: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = _ts()


class HubSetting(SQLModel, table=True):
    """Store-wide values, such as the tombstone salt, created with the store."""

    __tablename__ = "hub_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


def _customer_fk() -> Any:
    return Field(
        sa_column=Column(
            String(32), ForeignKey("customer.hub_id", ondelete="CASCADE"), primary_key=True
        )
    )


class CustomerMetrics(SQLModel, table=True):
    """Per-customer analytics, recomputed in SQL from orders and interactions.

    One row per customer, replaced whole by each computation so that every
    figure on a row was computed at ``computed_at`` from the same data.
    docs/analytics.md gives each column's formula.
    """

    __tablename__ = "customer_metrics"

    hub_id: str = _customer_fk()
    computed_at: datetime = _ts()
    first_order_at: datetime | None = _ts(nullable=True)
    last_order_at: datetime | None = _ts(nullable=True, index=True)
    recency_days: float | None = None
    tenure_days: float | None = None
    frequency: int = 0
    repeat_purchases: int = 0
    revenue: Decimal | None = _money()
    average_order: Decimal | None = _money()
    cost_of_goods: Decimal | None = _money()
    service_cost: Decimal | None = _money()
    profit: Decimal | None = _money()
    r_score: int | None = None
    f_score: int | None = None
    m_score: int | None = None
    rfm_segment: str = Field(default="prospect", max_length=32, index=True)
    clv_historical: Decimal | None = _money()
    clv_predicted: Decimal | None = _money()
    expected_purchases: float | None = None
    p_alive: float | None = None
    churn_risk: float | None = None
    acquisition_source: str | None = Field(default=None, max_length=64)
    acquisition_channel: str | None = Field(default=None, max_length=64)
    acquisition_campaign: str | None = Field(default=None, max_length=255)
    acquisition_cost: Decimal | None = _money()
    next_best_product: str | None = Field(default=None, max_length=255)


class SegmentMember(SQLModel, table=True):
    """A customer currently in a segment; leaving a segment deletes the row."""

    __tablename__ = "segment_member"
    __table_args__ = (Index("ix_segment_member_hub", "hub_id"),)

    segment: str = Field(primary_key=True, max_length=64)
    hub_id: str = _customer_fk()
    joined_at: datetime = _ts()


class TriggerFiring(SQLModel, table=True):
    """One firing of a trigger: who, which rule, which occasion, what it did.

    The primary key is the occasion, so a trigger cannot fire twice for the
    same customer and occasion, whatever restarts happen in between.
    """

    __tablename__ = "trigger_firing"

    trigger: str = Field(primary_key=True, max_length=64)
    hub_id: str = Field(primary_key=True, max_length=32)
    occasion: str = Field(primary_key=True, max_length=64)
    fired_at: datetime = _ts(index=True)
    action: str = Field(max_length=64)
    result: str = Field(default="queued", max_length=255)
    pending: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, server_default=false(), index=True),
    )
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    outcomes: dict[str, Any] | None = _json_or_none()


class WebhookInbox(SQLModel, table=True):
    """A verified webhook delivery, stored before it is acknowledged.

    Unique per connection and vendor delivery id, so a vendor's retry of a
    delivery is acknowledged again but stored, and processed, once. Headers
    that carry signatures or credentials are dropped before the row is written.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("connection", "delivery_id", name="uq_webhook_inbox_delivery"),
        Index("ix_webhook_inbox_pending", "status", "connection", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=64)
    delivery_id: str = Field(max_length=255)
    method: str = Field(max_length=8)
    headers: dict[str, Any] = _json()
    query: dict[str, Any] = _json()
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = _ts()
    processed_at: datetime | None = _ts(nullable=True)
