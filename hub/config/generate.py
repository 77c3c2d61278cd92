"""docs/configuration.md and config/schema.json, generated from the config models.

Both are rendered from :func:`config_json_schema`, itself built from the
models the loader validates with, so the reference cannot say anything the
loader does not accept. A test fails when the committed files are stale;
``python -m hub.config`` rewrites them.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

from hub.config.fields import DURATION_PATTERN
from hub.config.schema import config_json_schema
from hub.plugins import Plugins

__all__ = ["DOCS_FILE", "REGENERATE", "SCHEMA_FILE", "generated_files", "render_config_reference"]

REGENERATE = "python -m hub.config"
DOCS_FILE = Path("docs/configuration.md")
SCHEMA_FILE = Path("config/schema.json")

_INTRO = f"""\
<!-- Generated from the config models by `{REGENERATE}`; do not edit by hand. -->

# Configuration reference

crmhub reads one YAML file, `crmhub.yaml` unless a command is given `-c FILE`.
`crmhub init` writes a commented starter file, `crmhub config check -c FILE`
validates one without touching the network or the store, and
`crmhub config schema` prints the JSON Schema for editor completion.

- **Secrets** never go in the file. A connector setting of type *secret* must
  be written as `${{ENV_VAR}}` (read from the environment) or `file:PATH` (the
  file's content, PATH relative to the config file). `${{ENV_VAR}}` also works
  inside any other text, such as the store URL.
- **Durations** are a number and a unit: `30s`, `5m`, `1h30m`, `2d`.
- **Errors** are reported all at once as `file:line:column: message`, and the
  command exits with code 2.
"""


def render_config_reference(plugins: Plugins) -> str:
    """The Markdown configuration reference for the installed connectors."""
    schema = config_json_schema(plugins)
    definitions: dict[str, Any] = schema["$defs"]
    parts = [_INTRO.rstrip()]
    parts += _sections(schema, "", "## Top level", definitions)
    parts.append(
        "## Connectors\n\nWhat goes under a connection's `config:` depends on its connector."
    )
    if not plugins.connectors:
        parts.append("No connectors are installed.")
    configs = _connector_configs(schema)
    for name in sorted(plugins.connectors):
        connector = plugins.connectors[name]
        reads = ", ".join(sorted(connector.reads)) or "nothing"
        writes = ", ".join(sorted(connector.writes)) or "nothing"
        parts.append(f"### Connector `{name}`\n\nReads: {reads}. Writes: {writes}.")
        path = "connections.<name>.config"
        parts += _sections(configs[name], path, f"#### `{path}`", definitions)
    return "\n\n".join(parts) + "\n"


def generated_files(plugins: Plugins) -> dict[Path, str]:
    """Each generated file (relative to the repository root) and its content."""
    schema = json.dumps(config_json_schema(plugins), indent=2, ensure_ascii=False) + "\n"
    return {DOCS_FILE: render_config_reference(plugins), SCHEMA_FILE: schema}


def _sections(
    start: dict[str, Any], path: str, heading: str, definitions: dict[str, Any]
) -> list[str]:
    """One table per model reachable from ``start``, breadth first, headed by YAML path."""
    level = heading.split(" ", 1)[0]
    sections: list[str] = []
    queue: deque[tuple[str, str, dict[str, Any]]] = deque([(path, heading, start)])
    seen: set[str] = set()
    while queue:
        path, heading, schema = queue.popleft()
        if "$ref" in schema:
            name = _ref_name(schema)
            if name in seen:
                continue
            seen.add(name)
            schema = definitions[name]
        children: list[tuple[str, dict[str, Any]]] = []
        rows = [
            _row(key, prop, schema.get("required", []), _join(path, key), children)
            for key, prop in schema.get("properties", {}).items()
        ]
        text = heading
        if schema.get("description"):
            text += f"\n\n{schema['description']}"
        text += "\n\n| Key | Type | Default | Description |\n|---|---|---|---|\n" + "\n".join(rows)
        sections.append(text)
        queue.extend((child, f"{level} `{child}`", ref) for child, ref in children)
    return sections


def _row(
    key: str,
    prop: dict[str, Any],
    required: list[str],
    path: str,
    children: list[tuple[str, dict[str, Any]]],
) -> str:
    if "default" in prop:
        default = f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
    else:
        default = "required" if key in required else ""
    description = " ".join(str(prop.get("description", "")).split())
    cells = [f"`{key}`", _kind(prop, path, children), default, description]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _kind(schema: dict[str, Any], path: str, children: list[tuple[str, dict[str, Any]]]) -> str:
    """A type as a person reads it; models met on the way are queued as sections."""
    if "$ref" in schema:
        children.append((path, schema))
        return f"section `{path}`"
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        return " or ".join(_kind(option, path, children) for option in options)
    if "enum" in schema and len(schema["enum"]) <= 6:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("pattern") == DURATION_PATTERN:
        return "duration"
    if schema.get("format") == "password":
        return "secret"
    if schema.get("type") == "array":
        return "list of " + _kind(schema.get("items", {}), f"{path}[]", children)
    if schema.get("type") == "object":
        values = schema.get("additionalProperties")
        if not isinstance(values, dict):
            values = next(iter(schema.get("patternProperties", {}).values()), None)
        if values:
            return "mapping of names to " + _kind(values, f"{path}.<name>", children)
        return "mapping"
    return str(schema.get("type", "any"))


def _connector_configs(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Connector name -> the $ref of its config model, read from the if/then clauses."""
    connections = schema["properties"]["connections"]["patternProperties"]
    connection = schema["$defs"][_ref_name(next(iter(connections.values())))]
    return {
        clause["if"]["properties"]["connector"]["const"]: clause["then"]["properties"]["config"]
        for clause in connection.get("allOf", [])
    }


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]
