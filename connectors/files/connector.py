"""The file connector: CSV and JSON Lines in (customers, orders, visits), and customers out.

It is the reference example for connector authors (see
docs/writing-a-connector.md) and the way a business imports a spreadsheet.

The cursor is the file's fingerprint (size and modification time) plus the
number of records already read, so an interrupted import resumes where it
stopped, and an unchanged file costs nothing on the next sync. When the file
changes, it is read again from the top; records that did not change are
recognised by the engine and write nothing.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from itertools import groupby, islice
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from connectors.files.config import FilesConfig, FileSource
from connectors.files.interactions import row_to_interaction
from connectors.files.mapping import (
    EXPORT_COLUMNS,
    canonical_field,
    customer_to_row,
    order_to_rows,
    row_to_customer,
    rows_to_order,
)
from hub.connector import Change, Connector, Page, RawRecord, SourceRecord, WriteResult
from hub.errors import RecordError
from hub.model import Customer, Interaction, Order

__all__ = ["FilesConnector"]


class FilesConnector(Connector):
    name = "files"
    pure_mapping = True
    config_model: ClassVar[type[BaseModel]] = FilesConfig
    reads = {"customers": Customer, "orders": Order, "interactions": Interaction}
    writes = {"customers": Customer, "orders": Order}
    deletes = frozenset({"customers"})

    config: FilesConfig

    @classmethod
    def streams_offered(cls, settings: BaseModel) -> set[str]:
        assert isinstance(settings, FilesConfig)
        extra = {"orders": settings.orders, "interactions": settings.interactions}
        return {"customers"} | {stream for stream, source in extra.items() if source is not None}

    def fields_held(self, stream: str) -> frozenset[str] | None:
        """A CSV holds what its columns map; a JSON Lines file holds whole records."""
        source = self._source(stream)
        if not source.columns:
            return None
        return frozenset(canonical_field(t) for t in source.columns.values() if t != "external_id")

    def _source(self, stream: str) -> FileSource:
        """The file of ``stream``; a CSV without a column map uses crmhub's export columns.

        So a file written by ``crmhub export`` reads back with no configuration.
        """
        sources = {"orders": self.config.orders, "interactions": self.config.interactions}
        source: FileSource | None = sources.get(stream, self.config)
        if source is None:
            raise ValueError(f"stream {stream!r} needs `{stream}: {{path: ...}}` in the config")
        if source.file_format == "csv" and not source.columns and stream in EXPORT_COLUMNS:
            return source.model_copy(update={"columns": EXPORT_COLUMNS[stream]})
        return source

    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        source = self._source(stream)
        fingerprint = _fingerprint(source.path)
        skip = 0
        if cursor:
            saved = json.loads(cursor)
            if saved.get("fingerprint") == fingerprint:
                skip = int(saved["records"])
        records = _records(source, stream)
        position = skip
        batch = list(islice(records, skip, skip + source.page_size))
        while batch:
            position += len(batch)
            state = json.dumps({"fingerprint": fingerprint, "records": position})
            yield Page(records=batch, cursor=state)
            batch = list(islice(records, source.page_size))

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        source = self._source(stream)
        context = {"default_region": self.default_region}
        if stream == "orders":
            external_id, data = _mapped(raw.get("rows", [raw]), source, rows_to_order)
        elif stream == "interactions":
            external_id, data = _mapped([raw], source, _one_interaction(self.config))
        else:
            external_id, data = _mapped([raw], source, _one_customer(self.connection))
        try:
            record = self.reads[stream].model_validate(data, context=context)
        except ValidationError as exc:
            raise RecordError(f"{stream} record is not valid", external_id=external_id) from exc
        return SourceRecord(external_id, record, getattr(record, "updated_at", None))

    def from_canonical(self, stream: str, record: Any) -> RawRecord:
        return record.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]

    async def write(self, stream: str, changes: list[Change]) -> list[WriteResult]:
        """Upsert by external id: the file is rewritten whole, atomically.

        Writing the same batch twice leaves the same file, so a retried push
        creates nothing twice. An order is one row per line in a CSV file.
        """
        source = self._source(stream)
        existing: dict[str, list[RawRecord]] = {}
        if source.path.exists():
            for row in _read_rows(source):
                existing.setdefault(_external_id(row, source), []).append(row)
        results: list[WriteResult] = []
        for change in changes:
            external_id = change.external_id or change.hub_id
            if change.op == "delete":
                existing.pop(external_id, None)
                results.append(WriteResult(change.hub_id, external_id))
                continue
            rows = self._rows(stream, source, external_id, change.record)
            existing[external_id] = rows
            results.append(WriteResult(change.hub_id, external_id, written=rows[0]))
        _write_rows(source, [row for rows in existing.values() for row in rows])
        return results

    def _rows(
        self, stream: str, source: FileSource, external_id: str, record: Any
    ) -> list[RawRecord]:
        if not source.columns:
            return [{"external_id": external_id, **self.from_canonical(stream, record)}]
        if isinstance(record, Order):
            return list(order_to_rows(external_id, record, source.columns))
        assert isinstance(record, Customer)
        return [customer_to_row(external_id, record, source.columns)]


def _one_customer(connection: str) -> Any:
    def map_rows(rows: list[RawRecord], columns: dict[str, str]) -> tuple[str, dict[str, Any]]:
        return row_to_customer(rows[0], columns, connection)

    return map_rows


def _one_interaction(config: FilesConfig) -> Any:
    source = config.interactions
    assert source is not None  # the stream is offered only with an interactions file

    def map_rows(rows: list[RawRecord], columns: dict[str, str]) -> tuple[str, dict[str, Any]]:
        return row_to_interaction(rows[0], columns, kind=source.kind, channel=source.channel)

    return map_rows


def _mapped(rows: list[RawRecord], source: FileSource, mapper: Any) -> tuple[str, dict[str, Any]]:
    """Apply the column map, or take canonical keys as they are when there is none."""
    if "_error" in rows[0]:
        raise ValueError(f"line {rows[0]['_line']}: {rows[0]['_error']}")
    if source.columns:
        return mapper(rows, source.columns)  # type: ignore[no-any-return]
    data = dict(rows[0])
    external_id = str(data.pop("external_id", "") or "")
    if not external_id:
        raise ValueError("the record has no external_id")
    return external_id, data


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _external_id(row: RawRecord, source: FileSource) -> str:
    id_columns = [column for column, target in source.columns.items() if target == "external_id"]
    key = id_columns[0] if id_columns else "external_id"
    return str(row.get(key, ""))


def _read_rows(source: FileSource) -> Iterator[RawRecord]:
    with source.path.open(encoding=source.encoding, newline="") as handle:
        if source.file_format == "jsonl":
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield {"_line": number, "_error": f"not JSON: {exc.msg}", "_text": line}
        else:
            yield from csv.DictReader(handle, delimiter=source.delimiter)


def _records(source: FileSource, stream: str) -> Iterator[RawRecord]:
    """One raw record per customer row; for order files, one per order."""
    rows = _read_rows(source)
    if stream != "orders" or source.file_format == "jsonl":
        return rows
    return (
        {"rows": list(group)} for _, group in groupby(rows, key=lambda r: _external_id(r, source))
    )


def _write_rows(source: FileSource, rows: list[RawRecord]) -> None:
    source.path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=source.path.parent, delete=False, suffix=".tmp"
    ) as handle:
        if source.file_format == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            fields = list(source.columns) or sorted({key for row in rows for key in row})
            writer = csv.DictWriter(handle, fieldnames=fields, delimiter=source.delimiter)
            writer.writeheader()
            writer.writerows(rows)
    os.replace(handle.name, source.path)
