"""Configuration of the file connector: where the files are and how columns map."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from connectors.files.interactions import INTERACTION_TARGETS, known_interaction_target
from connectors.files.mapping import known_target
from hub.model import InteractionKind

__all__ = ["FileSource", "FilesConfig", "InteractionSource"]


class FileSource(BaseModel):
    """One CSV or JSON Lines file and the meaning of its columns."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="CSV (.csv) or JSON Lines (.jsonl) file, relative to the config")
    format: Literal["csv", "jsonl"] | None = Field(
        default=None, description="File format; taken from the file name's suffix when omitted"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Source column -> canonical target, e.g. {mail: email, vat: 'identifier:tax_id'}. "
            "Columns not listed are ignored. See docs/connectors/files.md for the targets."
        ),
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="CSV delimiter")
    encoding: str = Field(default="utf-8-sig", description="Text encoding of the file")
    page_size: int = Field(default=500, ge=1, le=50_000, description="Records per page")

    @property
    def file_format(self) -> Literal["csv", "jsonl"]:
        if self.format:
            return self.format
        return "jsonl" if self.path.suffix.lower() in (".jsonl", ".ndjson") else "csv"

    @field_validator("path")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        """Relative paths are read from the config file's folder, not the caller's."""
        base = (info.context or {}).get("base_dir")
        return value if value.is_absolute() or base is None else Path(base) / value

    @model_validator(mode="after")
    def _needs_external_id(self) -> FileSource:
        if self.columns and "external_id" not in self.columns.values():
            raise ValueError(
                "columns must map one column to external_id (the record's id in this file)"
            )
        return self


class InteractionSource(FileSource):
    """A file of touch points: store or web visits (a counter's totals), leads, calls."""

    kind: InteractionKind | None = Field(
        default=None,
        description="The kind of every row (store_visit, web_visit, lead ...) when the file "
        "has no column mapped to kind",
    )
    channel: str | None = Field(
        default=None,
        description="The channel of every row (e.g. the shop's name, web) when the file "
        "has no column mapped to channel",
    )

    @model_validator(mode="after")
    def _known_targets(self) -> InteractionSource:
        for column, target in self.columns.items():
            if not known_interaction_target(target):
                raise ValueError(
                    f"column {column!r}: {target!r} is not an interaction target "
                    f"({', '.join(sorted(INTERACTION_TARGETS))} or detail:NAME)"
                )
        if self.columns and self.kind is None and "kind" not in self.columns.values():
            raise ValueError("give kind (e.g. store_visit) or map a column to kind")
        return self


class FilesConfig(FileSource):
    """Customers come from ``path``; orders and interactions, when wanted, from theirs."""

    orders: FileSource | None = Field(
        default=None,
        description="File of orders, one row per order line, the rows of an order together",
    )
    interactions: InteractionSource | None = Field(
        default=None,
        description="File of touch points (visits from a door counter or web analytics "
        "export, leads), read as interactions: the footfall of conversion by channel",
    )

    @model_validator(mode="after")
    def _known_targets(self) -> FilesConfig:
        for source, orders in ((self, False), (self.orders, True)):
            for column, target in (source.columns if source else {}).items():
                if not known_target(target, orders=orders):
                    kind = "order" if orders else "customer"
                    raise ValueError(f"column {column!r}: {target!r} is not a {kind} target")
        return self
