"""The config file as pydantic models: what a valid crmhub.yaml means.

Which connectors exist, what settings each takes and which streams it offers
are only known once plugins are loaded, so validation needs them in its
context: ``{"plugins": Plugins, "base_dir": Path}`` (``base_dir`` is the
config file's folder, for connectors that read relative paths).

Field descriptions are the user documentation: docs/configuration.md and the
JSON Schema are generated from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from hub.config.fields import (
    ConfigModel,
    Cron,
    Duration,
    Loc,
    carry,
    did_you_mean,
    fail,
    problem,
    store_url,
    unknown_key,
)
from hub.connector import Connector
from hub.model import Address, Customer
from hub.normalize import NormalizationError, normalize_country
from hub.plugins import Plugins

__all__ = [
    "CandidateConfig",
    "ConnectionConfig",
    "FieldPolicy",
    "HubConfig",
    "IdentifierRule",
    "IdentityConfig",
    "MergeConfig",
    "Schedule",
]

CONNECTION_NAME = r"^[a-z][a-z0-9_-]*$"
IDENTIFIER_TYPE = r"^[a-z][a-z0-9_]*$"


def _plugins(info: ValidationInfo) -> Plugins:
    plugins = (info.context or {}).get("plugins")
    if not isinstance(plugins, Plugins):
        raise TypeError("validate crmhub config with context={'plugins': load_plugins(), ...}")
    return plugins


def _chosen_connector(info: ValidationInfo) -> type[Connector] | None:
    """The connection's connector class, or None when that field already failed."""
    name = info.data.get("connector")
    return _plugins(info).connectors.get(name) if name is not None else None


def _member_of(kind: str, names: Collection[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in names:
            hint = did_you_mean(value, names)
            raise PydanticCustomError(
                f"{kind.replace(' ', '_')}_unknown", f"no {kind} '{value}'{hint}"
            )
        return value

    return check


def _matching(kind: str, pattern: str, rule: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise PydanticCustomError(
                f"{kind.replace(' ', '_')}_invalid", f"{kind} '{value}' {rule}"
            )
        return value

    return check


_CANDIDATE_FIELDS = sorted({*Customer.model_fields, *Address.model_fields})
ConnectionName = Annotated[
    str,
    AfterValidator(
        _matching(
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
        _matching(
            "identifier type", IDENTIFIER_TYPE, "must start with a-z and hold only a-z, 0-9 and '_'"
        )
    ),
    WithJsonSchema({"type": "string", "pattern": IDENTIFIER_TYPE}),
]
CustomerField = Annotated[
    str,
    AfterValidator(_member_of("customer field", Customer.model_fields)),
    WithJsonSchema({"type": "string", "enum": sorted(Customer.model_fields)}),
]
CandidateField = Annotated[
    str,
    AfterValidator(_member_of("customer or address field", _CANDIDATE_FIELDS)),
    WithJsonSchema({"type": "string", "enum": _CANDIDATE_FIELDS}),
]


def _offered_stream(value: str, info: ValidationInfo) -> str:
    connector = _chosen_connector(info)
    if connector is None:
        return value
    offered: Mapping[str, object]
    direction = info.data.get("direction")
    if direction == "pull":
        verb, offered = "read", connector.reads
    elif direction == "push":
        verb, offered = "write", connector.writes
    else:  # both, or a direction that failed and is reported on its own
        verb, offered = "read or write", {**connector.reads, **connector.writes}
    if value not in offered:
        choices = ", ".join(sorted(offered)) or "none"
        raise PydanticCustomError(
            "stream_unknown",
            f"connector '{connector.name}' cannot {verb} stream '{value}'"
            f"{did_you_mean(value, offered)}; it can {verb}: {choices}",
        )
    return value


def _connector_settings(value: Any, info: ValidationInfo) -> BaseModel:
    """Validate ``config:`` with the connector's own model, errors placed inside it.

    Unknown keys are refused even when the connector's model would ignore them:
    a misspelt optional setting silently falling back to its default is the
    kind of mistake nobody finds.
    """
    connector = _chosen_connector(info)
    if connector is None:
        return cast(BaseModel, value)  # the connector error already fails this connection
    model = connector.config_model
    if isinstance(value, model):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "config_type", "config must be a mapping of the connector's settings"
        )
    keys = {key for name, field in model.model_fields.items() for key in (name, field.alias) if key}
    unknown = [unknown_key((key,), keys) for key in value if key not in keys]
    try:
        settings = model.model_validate(
            {key: item for key, item in value.items() if key in keys}, context=info.context
        )
    except ValidationError as exc:
        fail(model.__name__, [*unknown, *carry(exc)])
    if unknown:
        fail(model.__name__, unknown)
    return settings


Stream = Annotated[str, AfterValidator(_offered_stream)]
ConnectorSettings = Annotated[
    SerializeAsAny[BaseModel],
    PlainValidator(_connector_settings, json_schema_input_type=dict[str, Any]),
]


class Schedule(ConfigModel):
    """When `crmhub run` syncs a connection: at a fixed interval or on a cron schedule."""

    every: Duration | None = Field(None, description="Time between syncs, e.g. 5m or 1h.")
    cron: Cron | None = Field(
        None,
        description="Cron expression of 5 fields (minute hour day month weekday), in the "
        "local time of the machine running `crmhub run`, e.g. '0 3 * * *'.",
    )
    jitter: Duration = Field(
        "0",
        validate_default=True,
        description="Random delay of up to this long before each sync, so connections on "
        "the same schedule do not all call out at once.",
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        if self.every is not None and self.cron is not None:
            raise PydanticCustomError("schedule", "schedule sets both 'every' and 'cron'; keep one")
        if self.every is None and self.cron is None:
            raise PydanticCustomError("schedule", "schedule needs 'every' (e.g. 5m) or 'cron'")
        if self.every is not None and self.every <= timedelta(0):
            raise PydanticCustomError("schedule", "'every' must be longer than 0s")
        return self


class ConnectionConfig(ConfigModel):
    """One connected system: the connector that speaks to it, what flows, and when."""

    connector: str = Field(
        description="Name of the installed connector that talks to this system "
        "(`crmhub connectors list`)."
    )
    direction: Literal["pull", "push", "both"] = Field(
        "pull",
        description="pull reads the system into the hub, push writes the hub's changes to "
        "it, both does both. push and both need a connector that writes.",
    )
    settings: ConnectorSettings = Field(
        default_factory=dict,
        validate_default=True,
        alias="config",
        description="The connector's own settings (see Connectors below). Secrets are "
        "written as ${ENV_VAR} or file:PATH, never inline.",
    )
    streams: list[Stream] = Field(
        default_factory=list,
        min_length=1,
        description="Streams to sync. Default: every stream the connector reads (for "
        "direction push: every stream it writes).",
    )
    schedule: Schedule | None = Field(
        None,
        description="When `crmhub run` syncs this connection; without one it syncs only "
        "on `crmhub sync`.",
    )
    default_region: str | None = Field(
        None,
        description="Country (ISO 3166 code such as ES) in which phone numbers written "
        "without a country code are read.",
    )

    @model_validator(mode="before")
    @classmethod
    def _all_streams_by_default(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or "streams" in data:
            return data
        name = data.get("connector")
        connector = _plugins(info).connectors.get(name) if isinstance(name, str) else None
        if connector is None:
            return data
        streams = connector.writes if data.get("direction") == "push" else connector.reads
        return {**data, "streams": list(streams)}

    @field_validator("connector")
    @classmethod
    def _installed(cls, value: str, info: ValidationInfo) -> str:
        installed = _plugins(info).connectors
        if value not in installed:
            raise PydanticCustomError(
                "connector_unknown",
                f"connector '{value}' is not installed{did_you_mean(value, installed)}; "
                f"installed: {', '.join(sorted(installed)) or 'none'}",
            )
        return value

    @field_validator("direction")
    @classmethod
    def _connector_writes(cls, value: str, info: ValidationInfo) -> str:
        connector = _chosen_connector(info)
        if connector is not None and value != "pull" and not connector.writes:
            raise PydanticCustomError(
                "direction_unsupported",
                f"connector '{connector.name}' only reads, so direction must be 'pull'",
            )
        return value

    @field_validator("default_region")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_country(value)
        except NormalizationError:
            raise PydanticCustomError(
                "country_invalid",
                f"'{value}' is not an ISO 3166 country; write a code such as ES, DE or US",
            ) from None


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
        description="priority: the first connection in source_priority that has a value "
        "wins. last_writer: the latest change wins. set: the union of every source's "
        "values (tags). consent: an opt-out from anywhere wins. owner: only `owner` may "
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
        description="Connection names, most trusted first: decides policy priority and "
        "breaks last_writer ties.",
    )
    skew: Duration = Field(
        "5m",
        validate_default=True,
        description="Clock difference between systems that last_writer tolerates: changes "
        "closer together than this are concurrent and fall back to source_priority.",
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


def _undefined_connections(data: Any) -> list[InitErrorDetails]:
    """Connection names under ``merge`` that no connection defines, read from raw input."""
    if not isinstance(data, dict):
        return []
    connections, merge = data.get("connections"), data.get("merge")
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
    names = [str(name) for name in connections]
    return [
        problem(
            loc,
            "connection_unknown",
            f"no connection named '{name}'{did_you_mean(name, names)}; "
            f"defined: {', '.join(sorted(names)) or 'none'}",
        )
        for loc, name in references
        if isinstance(name, str) and name not in connections
    ]
