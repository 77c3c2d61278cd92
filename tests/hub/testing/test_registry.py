"""Finding a connector's sandbox through the installed plugins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import ExampleSandbox
from connectors.files.connector import FilesConnector
from hub.errors import PluginError
from hub.plugins import load_plugins
from hub.testing.registry import find_sandbox, sandbox_of, sandboxes

Install = Callable[[str, dict[str, str]], Path]


def test_a_connector_declares_its_sandbox_as_a_class_attribute() -> None:
    assert sandbox_of(ExampleConnector) is ExampleSandbox
    assert sandbox_of(FilesConnector) is None


def test_a_declared_sandbox_must_be_a_sandbox() -> None:
    class Confused(ExampleConnector):
        sandbox: ClassVar[type] = dict

    with pytest.raises(
        PluginError, match=r"'example'.*not a subclass of hub\.testing\.sandbox\.Sandbox"
    ):
        sandbox_of(Confused)


def test_installed_connectors_bring_their_sandboxes(install: Install) -> None:
    install("crmhub-example", {"example": "connectors.example.plugin"})
    plugins = load_plugins()
    found = sandboxes(plugins)  # built-in connectors with sandboxes are installed too
    assert found["example"] is ExampleSandbox and "files" not in found
    assert find_sandbox(plugins, "example") is ExampleSandbox
    with pytest.raises(
        PluginError, match=r"'files' ships no sandbox \(sandboxes installed: [^)]*example"
    ):
        find_sandbox(plugins, "files")
    with pytest.raises(PluginError, match="no connector named 'acme'"):
        find_sandbox(plugins, "acme")
