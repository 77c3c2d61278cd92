"""Plugin discovery through real entry points.

Each test writes a small distribution (a module plus a ``.dist-info`` with
``entry_points.txt``) into a folder on sys.path, which is exactly what pip
leaves behind, so importlib.metadata discovers it the way it would in use.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.files.connector import FilesConnector
from hub.errors import PluginError
from hub.plugins import load_plugins

GOOD_MODULE = """
from pydantic import BaseModel
from hub.connector import Connector
from hub.model import Customer
from hub.plugins import hookimpl

class Settings(BaseModel):
    url: str = "http://localhost"

class EchoConnector(Connector):
    name = "echo"
    config_model = Settings
    reads = {"customers": Customer}

    async def read(self, stream, cursor):
        return
        yield

    def to_canonical(self, stream, raw):
        raise NotImplementedError

@hookimpl
def crmhub_connectors():
    return [EchoConnector]
"""


def _install(site: Path, dist: str, module: str, source: str, entry: str) -> None:
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"  # as a wheel names it
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[crmhub.connectors]\n{entry} = {module}\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("crmhub_test_")]:
        del sys.modules[name]


def test_builtin_file_connector_is_found_through_its_entry_point() -> None:
    plugins = load_plugins()
    assert plugins.connectors["files"] is FilesConnector
    assert plugins.manager.has_plugin("files")


def test_third_party_connector_is_discovered(site: Path) -> None:
    _install(site, "crmhub-echo", "crmhub_test_echo", GOOD_MODULE, "echo")
    plugins = load_plugins()
    assert plugins.connectors["echo"].__module__ == "crmhub_test_echo"
    assert "files" in plugins.connectors


def test_broken_plugin_is_a_warning_and_the_rest_keep_working(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _install(site, "crmhub-broken", "crmhub_test_broken", "import does_not_exist\n", "broken")
    _install(site, "crmhub-echo", "crmhub_test_echo", GOOD_MODULE, "echo")
    with caplog.at_level(logging.WARNING):
        plugins = load_plugins()
    assert {"echo", "files"} <= set(plugins.connectors)
    [failure] = plugins.failures
    assert failure.package == "crmhub-broken"
    assert "ModuleNotFoundError" in failure.error and "does_not_exist" in failure.error
    assert "crmhub-broken" in caplog.text


def test_duplicate_connector_names_are_refused(site: Path) -> None:
    source = GOOD_MODULE.replace('name = "echo"', 'name = "files"')
    _install(site, "crmhub-clash", "crmhub_test_clash", source, "clash")
    with pytest.raises(PluginError, match="two plugins provide a connector named 'files'"):
        load_plugins()


def test_a_hook_returning_a_non_connector_is_refused() -> None:
    from hub.plugins import hookimpl

    class Bad:
        @hookimpl
        def crmhub_connectors(self) -> list[object]:
            return [object]

    with pytest.raises(PluginError, match="not a subclass"):
        load_plugins(extra=[Bad()])


def test_unknown_connector_lists_installed_ones() -> None:
    with pytest.raises(PluginError, match=r"no connector named 'shopfy' .*installed: .*files"):
        load_plugins().connector("shopfy")


def test_every_hook_is_documented() -> None:
    from hub.plugins import HookSpecs

    hooks = [name for name in vars(HookSpecs) if name.startswith("crmhub_")]
    assert hooks
    for name in hooks:
        doc = getattr(HookSpecs, name).__doc__ or ""
        assert len(doc.split()) >= 10, f"hook {name} needs a docstring stating its contract"
