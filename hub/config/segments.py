"""Config of analytics, segments and triggers: who is in a group, and what fires when.

A segment is a list of rules that must all hold, over canonical customer
fields and the metrics analytics stores per customer. A trigger fires once per
customer and occasion and puts the customer into a segment, which reaches the
marketing tools like any other segment; their automations act on it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, HttpUrl, SecretStr, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from hub.config.fields import ConfigModel, Duration, matching, member_of
from hub.model import Channel
from hub.store.tables import CustomerMetrics

__all__ = [
    "ANNIVERSARY_FIELDS",
    "METRIC_FIELDS",
    "SEGMENT_FIELDS",
    "AnalyticsConfig",
    "SegmentConfig",
    "SegmentName",
    "SegmentRule",
    "TaskAction",
    "TriggerConfig",
    "WebhookAction",
]

SEGMENT_NAME = r"^[a-z0-9][a-z0-9_\-]*$"
METRIC_FIELDS = tuple(name for name in CustomerMetrics.model_fields if name != "hub_id")
_CUSTOMER_SCALARS = ("first_name", "last_name", "gender", "language", "birth_date", "created_at")
SEGMENT_FIELDS = tuple(sorted({*_CUSTOMER_SCALARS, *METRIC_FIELDS}))
ANNIVERSARY_FIELDS = ("birth_date", "first_order_at")
_DATE_FIELDS = frozenset(
    {"birth_date", "created_at", "computed_at", "first_order_at", "last_order_at"}
)

_TESTS = ("in_", "not_in", "equals", "above", "below", "older_than", "within_last", "within_next")
SegmentName = Annotated[
    str,
    AfterValidator(matching("segment name", SEGMENT_NAME, "must hold only a-z, 0-9, '-' and '_'")),
    WithJsonSchema({"type": "string", "pattern": SEGMENT_NAME}),
]
SegmentField = Annotated[
    str,
    AfterValidator(member_of("segment field", SEGMENT_FIELDS)),
    WithJsonSchema({"type": "string", "enum": list(SEGMENT_FIELDS)}),
]
Scalar = str | int | float | bool


class SegmentRule(ConfigModel):
    """One condition. Give one subject (field, bought_category, consent or tag) and its test."""

    field: SegmentField | None = Field(
        None, description="A customer field or stored metric, e.g. rfm_segment, last_order_at."
    )
    bought_category: str | None = Field(
        None,
        description="Holds for customers with an order line in this category; with "
        "older_than, only if their latest such purchase is older.",
    )
    consent: Channel | None = Field(
        None, description="Holds for customers subscribed to this channel (email, sms ...)."
    )
    tag: str | None = Field(None, description="Holds for customers carrying this tag.")
    in_: list[Scalar] | None = Field(
        None, alias="in", description="The field's value is one of these."
    )
    not_in: list[Scalar] | None = Field(None, description="The field's value is none of these.")
    equals: Scalar | None = Field(None, description="The field's value is exactly this.")
    above: float | None = Field(None, description="The field's value is greater than this.")
    below: float | None = Field(None, description="The field's value is less than this.")
    older_than: Duration | None = Field(
        None, description="A date field (or the purchase) is further in the past, e.g. 730d."
    )
    within_last: Duration | None = Field(
        None, description="A date field (or the purchase) falls in this recent window."
    )
    within_next: Duration | None = Field(
        None,
        description="The yearly anniversary of birth_date or first_order_at falls in the "
        "next this-many days (0d: today).",
    )

    @model_validator(mode="after")
    def _one_subject_one_test(self) -> Self:
        subjects = [
            name
            for name in ("field", "bought_category", "consent", "tag")
            if getattr(self, name) is not None
        ]
        tests = [name for name in _TESTS if getattr(self, name) is not None]
        if len(subjects) != 1:
            raise PydanticCustomError(
                "rule_subject",
                "a rule needs exactly one of field, bought_category, consent or tag",
            )
        if self.field is not None:
            self._check_field_test(tests)
        elif self.bought_category is not None:
            if not set(tests) <= {"older_than", "within_last"} or len(tests) > 1:
                raise PydanticCustomError(
                    "rule_test", "bought_category takes at most one of older_than, within_last"
                )
        elif tests:
            raise PydanticCustomError("rule_test", f"{subjects[0]} takes no test")
        return self

    def _check_field_test(self, tests: list[str]) -> None:
        if len(tests) != 1:
            raise PydanticCustomError(
                "rule_test",
                "a field rule needs exactly one test: in, not_in, equals, above, below, "
                "older_than, within_last or within_next",
            )
        test, name = tests[0], str(self.field)
        if test == "within_next" and name not in ANNIVERSARY_FIELDS:
            raise PydanticCustomError(
                "rule_test",
                f"within_next applies to {', '.join(ANNIVERSARY_FIELDS)}, not {name}",
            )
        if test in ("older_than", "within_last") and name not in _DATE_FIELDS:
            raise PydanticCustomError(
                "rule_test", f"{test.replace('_', ' ')} needs a date field, not {name}"
            )


class SegmentConfig(ConfigModel):
    """A named group of customers, kept up to date and pushed to connections."""

    description: str | None = Field(None, description="What the segment is for.")
    channel: Channel | None = Field(
        None,
        description="The marketing channel the segment is for; a customer not subscribed "
        "to it is never added at any connection.",
    )
    rules: list[SegmentRule] = Field(
        min_length=1, description="Conditions that must all hold for a customer to belong."
    )
    push_to: list[str] = Field(
        default_factory=list,
        description="Connections that receive the membership (stream segment_members).",
    )


class WebhookAction(ConfigModel):
    """POST a signed JSON body about the firing to a URL (an automation tool, your own service)."""

    url: HttpUrl = Field(
        description="Where the firing is POSTed, e.g. https://hooks.example.com/crm."
    )
    secret: SecretStr = Field(
        description="Key of the HMAC-SHA256 signature sent in X-Crmhub-Signature "
        "(sha256=<hex> of the raw body); ${ENV_VAR} or file:PATH, never in the file."
    )
    timeout: float = Field(10.0, gt=0, le=120, description="Seconds to wait for an answer.")
    max_attempts: int = Field(
        10,
        ge=1,
        le=100,
        description="Refreshes that try a failed delivery (each with a few quick retries) "
        "before it is given up and recorded as failed.",
    )


class TaskAction(ConfigModel):
    """Create a task for the call centre in a CRM connection (one whose connector writes tasks)."""

    connection: str = Field(description="The CRM connection the task is created in.")
    subject: str = Field(
        min_length=1,
        description="The task's title, e.g. 'Call about the bike service'; the customer's "
        "name, e-mail and phone go in its description.",
    )
    due_in: Duration = Field(
        "1d", validate_default=True, description="When the task is due, after the firing."
    )
    priority: Literal["high", "medium", "low"] = Field("medium", description="Task priority.")
    max_attempts: int = Field(
        10, ge=1, le=100, description="Refreshes that try a failed create before giving up."
    )


class TriggerConfig(ConfigModel):
    """An event, inaction or date that puts a customer into a segment, once per occasion."""

    event: Literal[
        "first_order",
        "order_over",
        "order_cancelled",
        "ticket_opened",
        "no_order_for",
        "birthday",
        "first_order_anniversary",
        "purchase_followup",
    ] = Field(
        description="first_order: a customer's first order. order_over: an order above "
        "amount (each order is its own occasion). order_cancelled: a cancelled order. "
        "ticket_opened: a service ticket (an interaction of kind ticket). no_order_for: no "
        "order for `after` since the last one. birthday, first_order_anniversary: the "
        "yearly date, days_before it. purchase_followup: `after` a purchase of a product "
        "of `category` (a service reminder; each such order is its own occasion)."
    )
    amount: Decimal | None = Field(None, gt=0, description="The order total for order_over.")
    after: Duration | None = Field(
        None,
        description="The silence for no_order_for (e.g. 730d); the wait after the purchase "
        "for purchase_followup (e.g. 180d).",
    )
    category: str | None = Field(
        None,
        min_length=1,
        description="For purchase_followup: the product category (order line category) "
        "whose purchase starts the wait.",
    )
    days_before: int = Field(0, ge=0, le=60, description="How early a date trigger fires.")
    within: Duration = Field(
        "7d",
        validate_default=True,
        description="How far back an event may be and still fire: the first run after "
        "installing a trigger does not fire for every order ever placed.",
    )
    segment: SegmentName | None = Field(
        None,
        description="The segment the customer joins when it fires; the marketing tool's "
        "automation starts on that tag or list.",
    )
    webhook: WebhookAction | None = Field(
        None, description="A signed HTTP POST about each firing, retried until it is answered."
    )
    task: TaskAction | None = Field(
        None, description="A task for the call centre in a CRM connection, per firing."
    )
    hold: Duration = Field(
        "7d",
        validate_default=True,
        description="How long the customer stays in the segment after a firing.",
    )
    channel: Channel | None = Field(
        None, description="Marketing channel whose consent the membership requires."
    )
    push_to: list[str] = Field(
        default_factory=list, description="Connections that receive the membership."
    )

    @model_validator(mode="after")
    def _parameters_of_the_event(self) -> Self:
        if self.segment is None and self.webhook is None and self.task is None:
            raise PydanticCustomError(
                "trigger_action", "a trigger needs an action: segment, webhook or task"
            )
        if self.segment is None and self.push_to:
            raise PydanticCustomError("trigger_push", "push_to pushes the segment; name one")
        if self.event == "order_over" and self.amount is None:
            raise PydanticCustomError("trigger_amount", "event: order_over needs amount")
        if self.event in ("no_order_for", "purchase_followup") and self.after is None:
            raise PydanticCustomError(
                "trigger_after", f"event: {self.event} needs after, e.g. 180d"
            )
        if self.event == "purchase_followup" and self.category is None:
            raise PydanticCustomError(
                "trigger_category", "event: purchase_followup needs category, e.g. tyres"
            )
        return self


class AnalyticsConfig(ConfigModel):
    """How customer metrics are computed."""

    rfm_bins: int = Field(
        5, ge=2, le=10, description="Quantiles per RFM dimension (5: quintiles, scores 1-5)."
    )
    clv_horizon: Duration = Field(
        "365d",
        validate_default=True,
        description="Horizon of the predicted CLV (BG/NBD purchases times Gamma-Gamma value).",
    )
    min_support: float = Field(
        0.01,
        gt=0,
        le=1,
        description="Share of buyers who must have bought both products for a "
        "co-purchase rule to count (next_best_product).",
    )
    min_lift: float = Field(
        1.2,
        gt=0,
        description="How much likelier buying A must make B than it is overall for the "
        "rule A -> B to recommend B.",
    )
    refresh_after_sync: bool | None = Field(
        None,
        description="Recompute metrics, segments and triggers after the pulls of `crmhub "
        "sync` and of the service's scheduled pulls, so their pushes go out in the same "
        "pass. Unset: on when the config defines segments or triggers.",
    )
    refresh_every: Duration = Field(
        "1d",
        validate_default=True,
        description="After a pull that changed nothing, recompute only when the last "
        "refresh is older than this: date rules (birthdays, silences) move with time alone.",
    )
