"""A config with two example connections: ``crm`` sends webhooks, ``mail`` takes pushes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from connectors.example.sandbox import ExampleSandbox
from hub.config import HubConfig, load_config
from hub.plugins import Plugins, load_plugins


def write_config(
    path: Path, store_url: str, urls: dict[str, str], **extra: dict[str, object]
) -> Path:
    """A crmhub.yaml whose connections talk to example sandboxes at ``urls``."""
    sandbox = ExampleSandbox()
    connections = {
        name: {
            "connector": "example",
            "direction": "both",
            "config": sandbox.config_for(url),
            **extra.get(name, {}),
        }
        for name, url in urls.items()
    }
    path.write_text(yaml.safe_dump({"store": store_url, "connections": connections}))
    return path


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ExampleSandbox().environment().items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def plugins() -> Plugins:
    return load_plugins()


@pytest.fixture
def hub_config(
    example_env: None, tmp_path: Path, store_url: str, plugins: Plugins
) -> Iterator[HubConfig]:
    urls = {"crm": "http://crm.test", "mail": "http://mail.test"}
    yield load_config(write_config(tmp_path / "crmhub.yaml", store_url, urls), plugins)
