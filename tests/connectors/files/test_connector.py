from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.connector import Change, Page
from hub.model import Customer

COLUMNS = {"id": "external_id", "mail": "email", "given": "first_name"}


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _connector(path: Path, page_size: int = 2, **extra: object) -> FilesConnector:
    config = FilesConfig.model_validate(
        {"path": path, "columns": COLUMNS, "page_size": page_size, **extra}
    )
    return FilesConnector(config, connection="sheet")


async def _pages(connector: FilesConnector, cursor: str | None = None) -> list[Page]:
    return [page async for page in connector.read("customers", cursor)]


@pytest.mark.anyio
async def test_reads_in_pages_and_resumes_from_the_cursor(tmp_path: Path) -> None:
    rows = [{"id": str(i), "mail": f"p{i}@example.com", "given": f"P{i}"} for i in range(5)]
    connector = _connector(_csv(tmp_path / "c.csv", rows))
    pages = await _pages(connector)
    assert [len(p.records) for p in pages] == [2, 2, 1]
    resumed = await _pages(connector, pages[0].cursor)
    assert [r["id"] for p in resumed for r in p.records] == ["2", "3", "4"]
    assert await _pages(connector, pages[-1].cursor) == []


@pytest.mark.anyio
async def test_a_changed_file_is_read_again_from_the_top(tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", [{"id": "1", "mail": "a@example.com", "given": "A"}])
    connector = _connector(path)
    [page] = await _pages(connector)
    _csv(
        path,
        [
            {"id": "1", "mail": "a@example.com", "given": "Ann"},
            {"id": "2", "mail": "b@example.com", "given": "B"},
        ],
    )
    assert [r["given"] for p in await _pages(connector, page.cursor) for r in p.records] == [
        "Ann",
        "B",
    ]


def test_relative_paths_are_read_from_the_config_folder(tmp_path: Path) -> None:
    config = FilesConfig.model_validate(
        {"path": "c.csv", "columns": COLUMNS}, context={"base_dir": tmp_path}
    )
    assert config.path == tmp_path / "c.csv"


def test_config_rejects_unknown_targets_and_missing_id() -> None:
    with pytest.raises(ValidationError, match="'emial' is not a customer target"):
        FilesConfig.model_validate(
            {"path": "c.csv", "columns": {"id": "external_id", "m": "emial"}}
        )
    with pytest.raises(ValidationError, match="external_id"):
        FilesConfig.model_validate({"path": "c.csv", "columns": {"m": "email"}})


def test_jsonl_without_columns_takes_canonical_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"external_id": "9", "first_name": "Zoe", "emails": ["z@example.com"]}) + "\n"
    )
    connector = FilesConnector(FilesConfig(path=path), connection="sheet")
    mapped = connector.to_canonical("customers", json.loads(path.read_text()))
    assert mapped.external_id == "9"
    assert mapped.record == Customer(first_name="Zoe", emails=["z@example.com"])


@pytest.mark.anyio
async def test_a_broken_jsonl_line_becomes_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"external_id": "1"}\n{not json\n')
    connector = FilesConnector(FilesConfig(path=path), connection="sheet")
    [page] = await _pages(connector)
    with pytest.raises(ValueError, match="line 2: not JSON"):
        connector.to_canonical("customers", page.records[1])


@pytest.mark.anyio
async def test_write_is_an_idempotent_upsert(tmp_path: Path) -> None:
    path = _csv(tmp_path / "out.csv", [{"id": "1", "mail": "a@example.com", "given": "A"}])
    connector = _connector(path)
    changes = [
        Change(
            hub_id="h1",
            external_id="1",
            record=Customer(first_name="Ann", emails=["a@example.com"]),
        ),
        Change(hub_id="h2", record=Customer(first_name="Bob", emails=["b@example.com"])),
    ]
    first = await connector.write("customers", changes)
    second = await connector.write("customers", changes)
    assert [r.external_id for r in first] == ["1", "h2"] == [r.external_id for r in second]
    with path.open() as handle:
        assert list(csv.DictReader(handle)) == [
            {"id": "1", "mail": "a@example.com", "given": "Ann"},
            {"id": "h2", "mail": "b@example.com", "given": "Bob"},
        ]
    await connector.write(
        "customers", [Change(hub_id="h2", external_id="h2", record=Customer(), op="delete")]
    )
    assert path.read_text().count("\n") == 2
