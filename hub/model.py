"""The canonical model: what crmhub believes about a customer and their history.

Every connector maps its vendor's records into these classes and back, so they
hold the union of what the shop, CRM, e-mail and ads tools know, in one
normalised vocabulary. Validation happens here, once: a value that cannot be
normalised is a typed pydantic error (``email_invalid``, ``phone_invalid`` ...),
never a field that silently disappears.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hub.normalize import (
    NormalizationError,
    normalize_country,
    normalize_currency,
    normalize_email,
    normalize_language,
    normalize_phone,
)

__all__ = [
    "DERIVED_FIELDS",
    "Acquisition",
    "Address",
    "Campaign",
    "CanonicalRecord",
    "Channel",
    "Consent",
    "ConsentStatus",
    "Customer",
    "Interaction",
    "InteractionKind",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Recommendations",
    "Segment",
    "SegmentMembership",
    "Task",
]


def _typed(func: Any) -> Any:
    """Turn a NormalizationError into a pydantic error of type ``<kind>_invalid``."""

    def validate(value: Any) -> Any:
        try:
            return func(value)
        except NormalizationError as exc:
            raise PydanticCustomError(
                f"{exc.kind}_invalid",
                "{kind} {value} is not valid: {reason}",
                {"kind": exc.kind, "value": repr(exc.value), "reason": exc.reason},
            ) from None

    return validate


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError(
            "timestamp_naive",
            "timestamp {value} has no time zone; the connector must say which zone it is in",
            {"value": value.isoformat()},
        )
    return value.astimezone(UTC)


Email = Annotated[str, AfterValidator(_typed(normalize_email))]
CountryCode = Annotated[str, AfterValidator(_typed(normalize_country))]
CurrencyCode = Annotated[str, AfterValidator(_typed(normalize_currency))]
LanguageTag = Annotated[str, AfterValidator(_typed(normalize_language))]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


class CanonicalRecord(BaseModel):
    """Base of every canonical class: strict about unknown keys, frozen-free."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def canonical_dict(self) -> dict[str, Any]:
        """JSON-ready dict without unset values: what hashes and diffs compare."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


class Channel(StrEnum):
    """A way of reaching a person that needs their consent."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    ADVERTISING = "advertising"


class ConsentStatus(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"
    NOT_SUBSCRIBED = "not_subscribed"


class Consent(CanonicalRecord):
    """Consent for one channel, with where and when it was given or withdrawn.

    The source and time are what make an opt-out win over a stale opt-in, so
    they travel with the status instead of living only in provenance.
    """

    status: ConsentStatus
    source: str | None = None
    recorded_at: UtcDatetime | None = None
    opt_in_level: Literal["single_opt_in", "confirmed_opt_in", "unknown"] | None = None


class Address(CanonicalRecord):
    kind: Literal["billing", "shipping", "home", "work", "other"] = "other"
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: CountryCode | None = None


class Acquisition(CanonicalRecord):
    """Where a customer first came from: the basis of acquisition cost per channel."""

    source: str | None = None
    channel: str | None = None
    campaign: str | None = None
    acquired_at: UtcDatetime | None = None


class Recommendations(CanonicalRecord):
    """What to offer a customer next, derived in the hub from everyone's purchases.

    Held on the customer record so that it reaches the tools like any other
    field: a Mailchimp merge field for one-to-one e-mail content, a Shopify
    metafield or tag, a CRM field for the call centre. Engine plugins compute
    it (``plugins/analytics``); a connection's value is never taken (see
    :data:`DERIVED_FIELDS`), since all a tool can hold is what the hub wrote.
    """

    next_best_product: str | None = Field(
        None, description="Cross-sell: the strongest co-purchase the customer has not bought"
    )
    up_sell: str | None = Field(
        None, description="A dearer product of the customer's favourite category, not yet bought"
    )
    affinity: str | None = Field(
        None, description="The product category the customer spends most on"
    )


DERIVED_FIELDS = frozenset({"recommendations"})
"""Customer fields the hub derives from its own data; no connection ever sets them."""


class Customer(CanonicalRecord):
    """One person as the hub knows them.

    ``emails`` and ``phones`` are ordered, primary first, and de-duplicated after
    normalisation. Phones without a country code are read in the region of the
    first address that has a country, else the ``default_region`` passed in the
    validation context by the connection.
    """

    hub_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    emails: list[Email] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    birth_date: date | None = None
    gender: Literal["female", "male", "other"] | None = None
    language: LanguageTag | None = None
    consents: dict[Channel, Consent] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    identifiers: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    acquisition: Acquisition | None = None
    recommendations: Recommendations | None = None
    note: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None

    @field_validator("emails")
    @classmethod
    def _unique_emails(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("phones")
    @classmethod
    def _e164_phones(cls, value: list[str], info: ValidationInfo) -> list[str]:
        region = _default_region(info)
        normalized: list[str] = []
        for phone in value:
            try:
                normalized.append(normalize_phone(phone, region))
            except NormalizationError as exc:
                raise PydanticCustomError(
                    "phone_invalid",
                    "phone {value} is not valid: {reason}",
                    {"value": repr(exc.value), "reason": exc.reason},
                ) from None
        return list(dict.fromkeys(normalized))

    @field_validator("tags")
    @classmethod
    def _tag_set(cls, value: list[str]) -> list[str]:
        """Tags are a set; sorted so equal sets hash equally."""
        return sorted({tag.strip() for tag in value if tag.strip()})

    @field_validator("identifiers")
    @classmethod
    def _identifier_values(cls, value: dict[str, str]) -> dict[str, str]:
        return {kind.strip().lower(): ident.strip() for kind, ident in value.items() if ident}

    @property
    def primary_email(self) -> str | None:
        return self.emails[0] if self.emails else None


def _default_region(info: ValidationInfo) -> str | None:
    for address in info.data.get("addresses") or []:
        if address.country:
            return str(address.country)
    context = info.context or {}
    region = context.get("default_region")
    return str(region) if region else None


class OrderStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OrderLine(CanonicalRecord):
    sku: str | None = None
    product_id: str | None = None
    name: str
    category: str | None = None
    quantity: int = Field(ge=0)
    unit_price: Money
    total: Money | None = None
    cost: Money | None = Field(default=None, description="Cost of goods, for profitability")

    @model_validator(mode="after")
    def _default_total(self) -> Self:
        if self.total is None:
            self.total = self.unit_price * self.quantity
        return self


class Order(CanonicalRecord):
    """An order as the shop that owns it reports it.

    ``customer_ref`` is the buyer's id in the same source and ``customer_email``
    their address; the engine turns either into ``customer_hub_id``.
    """

    number: str | None = None
    customer_hub_id: str | None = None
    customer_ref: str | None = None
    customer_email: Email | None = None
    placed_at: UtcDatetime
    currency: CurrencyCode
    lines: list[OrderLine] = Field(default_factory=list)
    subtotal: Money | None = None
    discount: Money = Decimal(0)
    shipping: Money = Decimal(0)
    tax: Money = Decimal(0)
    total: Money
    refunded: Money = Decimal(0)
    status: OrderStatus = OrderStatus.OPEN
    financial_status: str | None = None
    fulfillment_status: str | None = None
    channel: str | None = None
    cancelled_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class Campaign(CanonicalRecord):
    """A campaign in a marketing tool, with the report figures analytics needs."""

    name: str
    channel: Literal["email", "sms", "social", "ads", "direct_mail", "other"] = "other"
    status: str | None = None
    sent_at: UtcDatetime | None = None
    sends: int | None = Field(default=None, ge=0)
    opens: int | None = Field(default=None, ge=0)
    clicks: int | None = Field(default=None, ge=0)
    unsubscribes: int | None = Field(default=None, ge=0)
    bounces: int | None = Field(default=None, ge=0)
    impressions: int | None = Field(default=None, ge=0)
    leads: int | None = Field(default=None, ge=0)
    spend: Money | None = None
    currency: CurrencyCode | None = None
    updated_at: UtcDatetime | None = None


class InteractionKind(StrEnum):
    WEB_VISIT = "web_visit"
    STORE_VISIT = "store_visit"
    CALL = "call"
    TICKET = "ticket"
    EMAIL_EVENT = "email_event"
    LEAD = "lead"
    OPPORTUNITY = "opportunity"
    """A sales deal in a CRM (amount, stage, close date in ``details``); not footfall."""
    NOTE = "note"


class Interaction(CanonicalRecord):
    """A touch point: a visit, a call, a service ticket, an e-mail open or click."""

    kind: InteractionKind
    occurred_at: UtcDatetime
    customer_hub_id: str | None = None
    customer_ref: str | None = None
    customer_email: Email | None = None
    channel: str | None = None
    subject: str | None = None
    status: str | None = None
    campaign_ref: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    updated_at: UtcDatetime | None = None


class Segment(CanonicalRecord):
    """A named group of customers, possibly meant for one marketing channel.

    When ``channel`` is set, consent for that channel is enforced at push time.
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str | None = None
    channel: Channel | None = None
    members: list[str] = Field(default_factory=list)


class SegmentMembership(CanonicalRecord):
    """One person joining or leaving a hub segment, as a connection must apply it.

    Segments reach marketing tools one membership at a time (a Mailchimp tag, a
    Shopify customer tag, a row of a Meta custom audience), so a connector that
    writes the ``segment_members`` stream receives these. ``customer`` is the
    canonical record, for the identifiers the tool matches on (Meta hashes
    them); the hub has already checked consent for ``channel`` before queuing an
    addition, so a connector never has to. ``member`` false means remove.
    ``customer_ref`` is the customer's id in that connection when the hub
    links one: a CRM relates a list to its own records by id (a Sugar Target
    List to a contact), and a connector knows nothing of the hub's links.
    """

    segment: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    channel: Channel | None = None
    member: bool = True
    customer: Customer
    customer_ref: str | None = None


class Task(CanonicalRecord):
    """A to-do for someone working in a CRM, about one customer: "call Ann about her tyres".

    Hub plugins create these (a trigger's task action, for the call centre) and
    a CRM connector that writes the ``tasks`` stream turns them into its own
    task or activity. ``key`` is the hub's stable id of the task, so a create
    resent after a failure lands on the same task; ``customer_ref`` is the
    customer's id in that CRM when the hub knows it, ``customer`` the record
    for the name, e-mail and phone the person calling needs.
    """

    key: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1)
    description: str | None = None
    due_at: UtcDatetime | None = None
    priority: Literal["high", "medium", "low"] = "medium"
    customer_ref: str | None = None
    customer: Customer | None = None
