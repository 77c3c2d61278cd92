"""A connection's settings, checked against the connector that will run them.

Which connectors exist, what settings each takes and which streams it offers
are only known once plugins are loaded, so validation needs them in its
context: ``{"plugins": Plugins, "base_dir": Path}`` (``base_dir`` is the
config file's folder, for connectors that read relative paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hub.config.fields import (
    ConfigModel,
    Cron,
    Duration,
    carry,
    did_you_mean,
    fail,
    problem,
    unknown_key,
)
from hub.connector import Connector
from hub.normalize import NormalizationError, normalize_country
from hub.plugins import Plugins

__all__ = ["ConnectionConfig", "InitialSync", "Schedule"]


def _plugins(info: ValidationInfo) -> Plugins:
    plugins = (info.context or {}).get("plugins")
    if not isinstance(plugins, Plugins):
        raise TypeError("validate crmhub config with context={'plugins': load_plugins(), ...}")
    return plugins


def _chosen_connector(info: ValidationInfo) -> type[Connector] | None:
    """The connection's connector class, or None when that field already failed."""
    name = info.data.get("connector")
    return _plugins(info).connectors.get(name) if name is not None else None


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
        choices = ", ".join(sorted(offered)) or "nothing"
        raise PydanticCustomError(
            "stream_unknown",
            f"connector '{connector.name}' cannot {verb} stream '{value}'"
            f"{did_you_mean(value, offered)} (it can {verb}: {choices})",
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

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["every"]}, {"required": ["cron"]}]}
    )

    every: Duration | None = Field(None, description="Time between syncs, e.g. 5m or 1h.")
    cron: Cron | None = Field(
        None,
        description="Cron expression of 5 fields (minute hour day month weekday), in the "
        "local time of the machine running `crmhub run`, e.g. '0 3 * * *'.",
    )
    jitter: Duration = Field(
        "0s",
        validate_default=True,
        description="Random delay of up to this long before each sync, so connections on "
        "the same schedule do not all call out at once.",
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        if self.every is not None and self.cron is not None:
            raise PydanticCustomError("schedule", "set 'every' or 'cron', not both")
        if self.every is None and self.cron is None:
            raise PydanticCustomError("schedule", "set 'every' (e.g. 5m) or 'cron'")
        if self.every is not None and self.every <= timedelta(0):
            raise PydanticCustomError("schedule", "'every' must be longer than 0s")
        return self


class InitialSync(ConfigModel):
    """What the first push to a connection does where it already holds a person differently."""

    prefer: Literal["hub", "remote", "review"] = Field(
        "hub",
        description="Which side wins a field the system already holds with another value "
        "than the hub's, on the connection's first push. hub: the hub's value is written. "
        "remote: the system's value is taken into the hub (and pushed to the others). "
        "review: neither changes; each difference waits in `crmhub conflicts list --kind "
        "initial` until you settle it. Every difference is listed there, whatever the policy; "
        "fields the system does not hold yet are filled, and nobody is ever subscribed.",
    )


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
        default_factory=BaseModel,  # marks `config` optional; _connector_defaults fills it
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
    initial_sync: InitialSync = Field(
        default_factory=InitialSync,
        description="The first push to this connection links the people it already holds "
        "and reports where they differ from the hub; this decides which side wins.",
    )

    @model_validator(mode="before")
    @classmethod
    def _connector_defaults(cls, data: Any) -> Any:
        """``config`` is filled here rather than validated as a field default so
        that a required setting missing from it is reported under ``config``.
        """
        if not isinstance(data, dict):
            return data
        return {"config": {}, **data}

    @model_validator(mode="wrap")
    @classmethod
    def _streams_the_settings_offer(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        """Keep only offered streams when none were listed; refuse listed ones not offered."""
        defaulted = isinstance(data, dict) and "streams" not in data
        connection = handler(data)
        connector = _plugins(info).connectors.get(connection.connector)
        if connector is None:
            return connection
        offered = connector.streams_offered(connection.settings)
        if defaulted:
            streams = connector.writes if connection.direction == "push" else connector.reads
            connection.streams = [s for s in streams if s in offered]
            return connection
        available = ", ".join(sorted(offered)) or "none"
        refused = [
            problem(
                ("streams", index),
                "stream_not_offered",
                f"stream '{stream}' is not available with these settings of connector "
                f"'{connector.name}' (available: {available})",
            )
            for index, stream in enumerate(connection.streams)
            if stream not in offered
        ]
        if refused:
            fail(cls.__name__, refused)
        return connection

    @field_validator("connector")
    @classmethod
    def _installed(cls, value: str, info: ValidationInfo) -> str:
        installed = _plugins(info).connectors
        if value not in installed:
            raise PydanticCustomError(
                "connector_unknown",
                f"connector '{value}' is not installed{did_you_mean(value, installed)} "
                f"(installed: {', '.join(sorted(installed)) or 'none'})",
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
