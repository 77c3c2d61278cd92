"""The engine lets plugins react to a pass's pulls, before its pushes, and survives them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.config import HubConfig
from hub.engine.runner import sync
from hub.plugins import Refresh, hookimpl, load_plugins
from hub.store.database import Store


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[bool] = []
        self.fail = fail

    @hookimpl
    def crmhub_after_pull(self, refresh: Refresh, changed: bool) -> None:
        self.calls.append(changed)
        if self.fail:
            raise RuntimeError("the plugin broke")


def _config(tmp_path: Path, plugins: object) -> HubConfig:
    (tmp_path / "people.csv").write_text("id,email\nC1,ann@example.com\n", encoding="utf-8")
    shop = {
        "connector": "files",
        "direction": "pull",
        "streams": ["customers"],
        "config": {
            "path": str(tmp_path / "people.csv"),
            "columns": {"id": "external_id", "email": "email"},
        },
    }
    return HubConfig.model_validate({"connections": {"shop": shop}}, context={"plugins": plugins})


def test_plugins_hear_after_each_pass_of_pulls_whether_anything_changed(
    store: Store, tmp_path: Path
) -> None:
    recorder = Recorder()
    plugins = load_plugins(extra=[recorder])
    config = _config(tmp_path, plugins)

    asyncio.run(sync(store, config, plugins))
    asyncio.run(sync(store, config, plugins, phases=("pull",)))  # as the service pulls
    asyncio.run(sync(store, config, plugins, phases=("push",)))  # a drain: no pull, no call

    assert recorder.calls == [True, False]


def test_a_failing_plugin_is_logged_and_the_pass_goes_on(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plugins = load_plugins(extra=[Recorder(fail=True)])
    config = _config(tmp_path, plugins)

    with caplog.at_level(logging.ERROR):
        results = asyncio.run(sync(store, config, plugins))

    assert [r.status for r in results] == ["succeeded"]
    assert "crmhub_after_pull failed" in caplog.text
