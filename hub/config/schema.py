"""The config file's JSON Schema, for editor completion and CI checks.

What a connection's ``config`` may hold depends on its connector, and which
connectors exist depends on what is installed. The schema therefore says it
with one ``if connector is X then config is X's model`` clause per installed
connector, built from the same pydantic models the loader validates with.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hub.config.models import ConnectionConfig, HubConfig
from hub.config.secrets import REFERENCE
from hub.connector import Connector
from hub.plugins import Plugins

__all__ = ["DIALECT", "SECRET_PATTERN", "config_json_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SECRET_PATTERN = rf"^({REFERENCE.pattern}|file:.+)$"
_MODE: JsonSchemaMode = "validation"


def config_json_schema(plugins: Plugins) -> dict[str, Any]:
    """A Draft 2020-12 schema of the config file for the installed connectors."""
    connectors = [plugins.connectors[name] for name in sorted(plugins.connectors)]
    models: list[type[BaseModel]] = [HubConfig, ConnectionConfig]
    models += dict.fromkeys(connector.config_model for connector in connectors)
    refs, generated = models_json_schema([(model, _MODE) for model in models])
    definitions = generated["$defs"]
    root = definitions.pop(_name(refs[(HubConfig, _MODE)]))
    connection = definitions[_name(refs[(ConnectionConfig, _MODE)])]
    if connectors:
        connection["properties"]["connector"]["enum"] = [c.name for c in connectors]
        connection["allOf"] = [
            _when_connector(connector, refs[(connector.config_model, _MODE)])
            for connector in connectors
        ]
    _tighten(root)
    _tighten(definitions)
    return {"$schema": DIALECT, **root, "title": "crmhub configuration", "$defs": definitions}


def _name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _when_connector(connector: type[Connector], config_ref: dict[str, Any]) -> dict[str, Any]:
    streams = sorted({*connector.reads, *connector.writes})
    then: dict[str, Any] = {"config": config_ref, "streams": {"items": {"enum": streams}}}
    if not connector.writes:
        then["direction"] = {"const": "pull"}
    return {
        "if": {"properties": {"connector": {"const": connector.name}}, "required": ["connector"]},
        "then": {"properties": then},
    }


def _tighten(schema: Any) -> None:
    """Say in the schema what the loader enforces beyond pydantic's own output.

    SecretStr fields (format "password") accept only ${ENV_VAR} or file:PATH,
    and a mapping whose keys follow a pattern accepts no other keys.
    """
    if isinstance(schema, dict):
        if schema.get("format") == "password":
            schema["pattern"] = SECRET_PATTERN
        if "patternProperties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _tighten(value)
    elif isinstance(schema, list):
        for item in schema:
            _tighten(item)
