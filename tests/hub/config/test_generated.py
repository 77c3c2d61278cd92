"""The JSON Schema and the Markdown reference: generated, current, and useful."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import config_json_schema, render_config_reference
from hub.config.generate import DOCS_FILE, REGENERATE, SCHEMA_FILE, generated_files
from hub.config.schema import DIALECT, SECRET_PATTERN
from hub.plugins import Plugins, load_plugins

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("path", [DOCS_FILE, SCHEMA_FILE])
def test_generated_file_is_current(path: Path) -> None:
    expected = generated_files(load_plugins())[path]
    written = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
    assert written == expected, f"{path} is stale; regenerate it with `{REGENERATE}`"


def test_schema_constrains_config_per_connector(plugins: Plugins) -> None:
    schema = config_json_schema(plugins)
    assert schema["$schema"] == DIALECT
    assert schema["additionalProperties"] is False
    connection = schema["$defs"]["ConnectionConfig"]
    assert "fakeshop" in connection["properties"]["connector"]["enum"]
    clauses = {
        clause["if"]["properties"]["connector"]["const"]: clause["then"]["properties"]
        for clause in connection["allOf"]
    }
    shop_config = schema["$defs"][clauses["fakeshop"]["config"]["$ref"].rsplit("/", 1)[-1]]
    assert shop_config["properties"]["access_token"]["pattern"] == SECRET_PATTERN
    assert clauses["fakeshop"]["streams"] == {"items": {"enum": ["customers", "orders"]}}
    assert clauses["fakesheet"]["direction"] == {"const": "pull"}
    assert "direction" not in clauses["fakeshop"]


def test_schema_knows_durations_and_connection_names(plugins: Plugins) -> None:
    schema = config_json_schema(plugins)
    connections = schema["properties"]["connections"]
    assert list(connections["patternProperties"]) == ["^[a-z][a-z0-9_-]*$"]
    assert connections["additionalProperties"] is False
    skew = schema["$defs"]["MergeConfig"]["properties"]["skew"]
    assert skew["default"] == "5m" and "pattern" in skew


def test_reference_describes_every_section_and_connector(plugins: Plugins) -> None:
    text = render_config_reference(plugins)
    assert REGENERATE in text.splitlines()[0]
    for heading in (
        "## Top level",
        "## `connections.<name>`",
        "## `connections.<name>.schedule`",
        "## `identity`",
        "## `identity.candidates`",
        "## `merge.fields.<name>`",
        "### Connector `fakeshop`",
    ):
        assert f"\n{heading}\n" in text
    assert "| `access_token` | secret | required |" in text
    assert '| `skew` | duration | `"5m"` |' in text
