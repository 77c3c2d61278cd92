"""Which log format a service gets, and that its secrets are masked whatever the format."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hub.cli.logsetup import configure, for_service
from hub.config import HubConfig, load_config
from hub.logs import JsonFormatter
from hub.plugins import load_plugins

PASSWORD = "pg-Pa55word-91"
TOKEN = "tok-for-the-example-api-7"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    monkeypatch.setenv("EXAMPLE_TOKEN", TOKEN)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    path = tmp_path / "crmhub.yaml"
    crm = {
        "connector": "example",
        "config": {"base_url": "http://crm.test", "api_token": "${EXAMPLE_TOKEN}"},
    }
    document = {
        "store": "postgresql://crmhub:${PGPASSWORD}@db.internal/crmhub",
        "connections": {"crm": crm},
        "service": {"log_format": "json"},
    }
    path.write_text(yaml.safe_dump(document))
    return load_config(path, load_plugins())


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


def _emitted(message: str) -> str:
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out := io.StringIO())
    logging.getLogger("hub.test").warning(message)
    return out.getvalue()


def test_the_config_chooses_json_when_the_command_line_did_not(config: HubConfig) -> None:
    configure(logging.INFO, None)
    for_service(config)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler.formatter, JsonFormatter)
    line = _emitted(f"connecting with {TOKEN} to postgresql://crmhub:{PASSWORD}@db.internal")
    assert TOKEN not in line and PASSWORD not in line and '"level": "warning"' in line


def test_the_command_line_wins_over_the_config(
    config: HubConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(logging.INFO, "text")
    for_service(config)
    [handler] = logging.getLogger().handlers
    assert not isinstance(handler.formatter, JsonFormatter)
    logging.getLogger("hub.test").warning("token %s", TOKEN)
    err = capsys.readouterr().err
    assert "token ***" in err and TOKEN not in err
