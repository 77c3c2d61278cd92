"""The config file as pydantic models: what a valid crmhub.yaml means.

Field descriptions are the user documentation: docs/configuration.md and the
JSON Schema are generated from them. Connection names are checked across
sections (``merge`` refers to connections) in the same pass as everything
else, so one run of ``crmhub config check`` shows every mistake.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from hub.config.connection import ConnectionConfig, InitialSync, Schedule
from hub.config.fields import (
    ConfigModel,
    Duration,
    Loc,
    carry,
    did_you_mean,
    fail,
    matching,
    member_of,
    problem,
    store_url,
)
from hub.config.segments import (
    AnalyticsConfig,
    SegmentConfig,
    SegmentName,
    TaskAction,
    TriggerConfig,
    WebhookAction,
)
from hub.config.service import ServiceConfig
from hub.model import Address, Customer

__all__ = [
    "AnalyticsConfig",
    "CandidateConfig",
    "ConnectionConfig",
    "FieldPolicy",
    "HubConfig",
    "IdentifierRule",
    "IdentityConfig",
    "InitialSync",
    "MergeConfig",
    "Schedule",
    "SegmentConfig",
    "ServiceConfig",
    "TaskAction",
    "TriggerConfig",
    "WebhookAction",
]

CONNECTION_NAME = r"^[a-z][a-z0-9_-]*$"
IDENTIFIER_TYPE = r"^[a-z][a-z0-9_]*$"

_CANDIDATE_FIELDS = sorted({*Customer.model_fields, *Address.model_fields})
ConnectionName = Annotated[
    str,
    AfterValidator(
        matching(
            "connection name",
            CONNECTION_NAME,
            "must start with a-z and hold only a-z, 0-9, '-' and '_'",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": CONNECTION_NAME}),
]
IdentifierType = Annotated[
    str,
    AfterValidator(
        matching(
            "identifier type", IDENTIFIER_TYPE, "must start with a-z and hold only a-z, 0-9 and '_'"
        )
    ),
    WithJsonSchema({"type": "string", "pattern": IDENTIFIER_TYPE}),
]
CustomerField = Annotated[
    str,
    AfterValidator(member_of("customer field", Customer.model_fields)),
    WithJsonSchema({"type": "string", "enum": sorted(Customer.model_fields)}),
]
CandidateField = Annotated[
    str,
    AfterValidator(member_of("customer or address field", _CANDIDATE_FIELDS)),
    WithJsonSchema({"type": "string", "enum": _CANDIDATE_FIELDS}),
]


class IdentifierRule(ConfigModel):
    """How one identifier type links records to a customer."""

    limit: int = Field(
        ge=1,
        description="Most distinct values of this type one customer may hold; a record "
        "that would take a customer past it is not linked on this identifier.",
    )


class CandidateConfig(ConfigModel):
    """Fuzzy matching: scored look-alikes go to the review queue and never merge alone."""

    fields: list[CandidateField] = Field(
        min_length=1,
        description="Customer and address fields compared, e.g. last_name, first_name, "
        "birth_date, postcode.",
    )
    review_above: float = Field(
        0.8, gt=0, le=1, description="Score (0 to 1) above which a pair goes to review."
    )


class IdentityConfig(ConfigModel):
    """How records from different systems are recognised as the same person."""

    identifiers: dict[IdentifierType, IdentifierRule] = Field(
        default={"email": {"limit": 3}, "phone": {"limit": 3}},
        validate_default=True,
        description="Identifier types that link records: email, phone, or any id a "
        "connector maps to identifier:NAME (e.g. tax_id).",
    )
    never_link: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Glob patterns (fnmatch) of shared values that never link two people, "
        "matched against the normalised value (lower-case e-mail, E.164 phone), e.g. "
        "'info@*' or '+10000000000'.",
    )
    max_cluster: int = Field(
        10,
        ge=1,
        description="Most source records one customer may gather; a link past it goes to "
        "review, so one bad identifier cannot chain strangers together.",
    )
    candidates: CandidateConfig | None = Field(
        None, description="Fuzzy matching of records without a shared identifier; off when unset."
    )


class FieldPolicy(ConfigModel):
    """How the hub decides a customer field that several systems disagree on."""

    policy: Literal["priority", "last_writer", "set", "consent", "owner"] = Field(
        description="priority: a change from a connection ranked higher in "
        "source_priority wins; equal ranks fall back to last_writer. last_writer: the later "
        "change wins, and changes closer together than skew are a conflict for review. "
        "set: what a source added is added, what it removed is removed. consent: an "
        "opt-out dominates any opt-in that is not clearly later. owner: only `owner` may "
        "change it."
    )
    owner: str | None = Field(
        None, description="The connection that alone may change the field (policy owner)."
    )

    @model_validator(mode="after")
    def _owner_with_owner_policy(self) -> Self:
        if self.policy == "owner" and self.owner is None:
            raise PydanticCustomError(
                "owner_missing", "policy 'owner' needs 'owner:' naming the connection that owns it"
            )
        if self.policy != "owner" and self.owner is not None:
            raise PydanticCustomError(
                "owner_unused", f"'owner' only applies to policy 'owner', not '{self.policy}'"
            )
        return self


class MergeConfig(ConfigModel):
    """How field values from several systems combine into the canonical record."""

    source_priority: list[str] = Field(
        default_factory=list,
        description="Connection names, most trusted first. Connections not listed rank "
        "equal, after those listed.",
    )
    skew: Duration = Field(
        "5m",
        validate_default=True,
        description="Clock difference between systems the merge tolerates: two changes of "
        "equal rank closer together than this are concurrent; the hub keeps a deterministic "
        "winner and files a conflict for review.",
    )
    fields: dict[CustomerField, FieldPolicy] = Field(
        default_factory=dict,
        description="Policy per customer field, overriding the built-in ones, e.g. "
        "{tags: {policy: set}}.",
    )

    @field_validator("source_priority")
    @classmethod
    def _each_once(cls, value: list[str]) -> list[str]:
        repeats = [
            problem((index,), "priority_repeated", f"connection '{name}' is listed twice")
            for index, name in enumerate(value)
            if name in value[:index]
        ]
        if repeats:
            fail(cls.__name__, repeats)
        return value


class HubConfig(ConfigModel):
    """A crmhub config file: where the hub keeps its data and the systems it keeps in step."""

    store: Annotated[str, AfterValidator(store_url)] = Field(
        "sqlite:///crmhub.db",
        repr=False,
        description="Database URL: sqlite:///FILE (zero setup) or "
        "postgresql://USER:${PASSWORD_VAR}@HOST/DATABASE.",
    )
    connections: dict[ConnectionName, ConnectionConfig] = Field(
        default_factory=dict, description="The connected systems, by a name you choose."
    )
    identity: IdentityConfig = Field(
        default_factory=IdentityConfig, description="Identity resolution rules."
    )
    merge: MergeConfig = Field(
        default_factory=MergeConfig, description="Field ownership and merge policy overrides."
    )
    analytics: AnalyticsConfig = Field(
        default_factory=AnalyticsConfig, description="How customer metrics are computed."
    )
    segments: dict[SegmentName, SegmentConfig] = Field(
        default_factory=dict,
        description="Customer segments by name, evaluated by `crmhub segments evaluate`.",
    )
    triggers: dict[SegmentName, TriggerConfig] = Field(
        default_factory=dict,
        description="Campaign triggers by name: events, inaction and dates that put a "
        "customer into a segment once per occasion.",
    )
    service: ServiceConfig = Field(
        default_factory=ServiceConfig,
        description="The long-running modes, `crmhub run` and `crmhub worker`.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _connections_exist(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Check connection names even when a connection is invalid, so a misspelt
        name is reported in the same pass as every other error."""
        undefined = _undefined_connections(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            if not undefined:
                raise
            fail(cls.__name__, [*carry(exc), *undefined])
        if undefined:
            fail(cls.__name__, undefined)
        return config

    @model_validator(mode="after")
    def _trigger_segments_apart(self) -> Self:
        """A trigger's segment is filled by firings alone; rules would empty it again."""
        clashes = [
            problem(
                ("triggers", name, "segment"),
                "segment_taken",
                f"segment '{trigger.segment}' is defined by rules under segments; "
                "a trigger needs a segment of its own",
            )
            for name, trigger in self.triggers.items()
            if trigger.segment in self.segments
        ]
        if clashes:
            fail(type(self).__name__, clashes)
        return self


def _undefined_connections(data: Any) -> list[InitErrorDetails]:
    """Connection names under ``merge`` that no connection defines, read from raw input."""
    if not isinstance(data, dict):
        return []
    connections, merge = data.get("connections", {}), data.get("merge") or {}
    if not isinstance(connections, dict) or not isinstance(merge, dict):
        return []
    references: list[tuple[Loc, Any]] = []
    priority = merge.get("source_priority")
    if isinstance(priority, list):
        references += [(("merge", "source_priority", i), name) for i, name in enumerate(priority)]
    policies = merge.get("fields")
    if isinstance(policies, dict):
        references += [
            (("merge", "fields", field, "owner"), policy["owner"])
            for field, policy in policies.items()
            if isinstance(policy, dict) and "owner" in policy
        ]
    for section in ("segments", "triggers"):
        entries = data.get(section)
        if isinstance(entries, dict):
            references += [
                ((section, entry, "push_to", i), name)
                for entry, body in entries.items()
                if isinstance(body, dict) and isinstance(body.get("push_to"), list)
                for i, name in enumerate(body["push_to"])
            ]
    triggers = data.get("triggers")
    if isinstance(triggers, dict):
        references += [
            (("triggers", entry, "task", "connection"), body["task"].get("connection"))
            for entry, body in triggers.items()
            if isinstance(body, dict) and isinstance(body.get("task"), dict)
        ]
    names = [str(name) for name in connections]
    return [
        problem(
            loc,
            "connection_unknown",
            f"no connection named '{name}'{did_you_mean(name, names)} "
            f"(defined: {', '.join(sorted(names)) or 'none'})",
        )
        for loc, name in references
        if isinstance(name, str) and name not in connections
    ]
