"""A whole sync pass over two connections that read and write: changes travel, echoes stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.files.connector import FilesConnector
from hub.config import load_config
from hub.connector import Change, Connector, WriteResult
from hub.engine.runner import sync
from hub.plugins import hookimpl, load_plugins
from hub.store.database import Store

WRITES: list[tuple[str, int]] = []


class CountingFiles(FilesConnector):
    """The file connector, counting the records each write sends."""

    name = "counting_files"

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        WRITES.append((self.connection, len(changes)))
        return await super().write(stream, changes)


class Plugin:
    @hookimpl
    def crmhub_connectors(self) -> list[type[Connector]]:
        return [CountingFiles]


def _people(path: Path) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {row["emails"][0]: row for row in rows}


@pytest.mark.anyio
async def test_a_change_reaches_the_other_system_and_the_next_pass_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "shop.jsonl").write_text(
        json.dumps({"external_id": "s1", "first_name": "Ann", "emails": ["ann@example.com"]}) + "\n"
    )
    (tmp_path / "crm.jsonl").write_text(
        json.dumps({"external_id": "c9", "last_name": "Smith", "emails": ["ANN@example.com"]})
        + "\n"
    )
    (tmp_path / "crmhub.yaml").write_text(
        "connections:\n"
        "  shop: {connector: counting_files, direction: both, config: {path: shop.jsonl}}\n"
        "  crm: {connector: counting_files, direction: both, config: {path: crm.jsonl}}\n"
    )
    plugins = load_plugins(extra=[Plugin()])
    config = load_config(tmp_path / "crmhub.yaml", plugins)
    WRITES.clear()

    first = await sync(store, config, plugins)
    assert all(r.status == "succeeded" for r in first), [r.error for r in first]
    for system in ("shop", "crm"):  # one person, with what both systems knew
        [ann] = _people(tmp_path / f"{system}.jsonl").values()
        assert (ann["first_name"], ann["last_name"]) == ("Ann", "Smith")
    assert sum(count for _, count in WRITES) == 2

    WRITES.clear()
    for _ in range(2):
        again = await sync(store, config, plugins, full=True)
        assert all(r.status == "succeeded" for r in again)
    assert sum(count for _, count in WRITES) == 0, WRITES
