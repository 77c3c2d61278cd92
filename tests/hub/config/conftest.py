"""Helpers that load a YAML text from tmp_path with the fake connectors installed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hub.config import HubConfig, load_config
from hub.errors import ConfigError
from hub.plugins import Plugins, load_plugins
from tests.hub.config.fakes import ErrorLines, FakePlugin, LoadText


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins(extra=[FakePlugin()])


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "crmhub.yaml"


@pytest.fixture
def load_text(config_path: Path, plugins: Plugins) -> LoadText:
    """Write a dedented YAML text to crmhub.yaml and load it."""

    def load(text: str) -> HubConfig:
        config_path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_config(config_path, plugins)

    return load


@pytest.fixture
def config_errors(load_text: LoadText, config_path: Path) -> ErrorLines:
    """The ConfigError's lines for a YAML text, with the path shortened to crmhub.yaml."""

    def errors(text: str) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            load_text(text)
        assert caught.value.exit_code == 2
        return str(caught.value).replace(str(config_path), "crmhub.yaml").splitlines()

    return errors
