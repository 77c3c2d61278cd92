"""Two small connectors that register like any installed plugin would.

``fakeshop`` reads and writes and has a secret; ``fakesheet`` only reads.
The fixtures in conftest.py load YAML texts with them installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from pydantic import BaseModel, Field, SecretStr, field_validator

from hub.config import HubConfig
from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.model import Customer, Order
from hub.plugins import hookimpl

LoadText = Callable[[str], HubConfig]
ErrorLines = Callable[[str], list[str]]


class ShopSettings(BaseModel):
    shop: str
    access_token: SecretStr
    page_size: int = Field(100, ge=1)

    @field_validator("shop")
    @classmethod
    def _host_name(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("shop is a host name, not a URL")
        return value


class SheetSettings(BaseModel):
    path: str


class _NoIO(Connector):
    async def read(self, stream: str, cursor: str | None) -> AsyncIterator[Page]:
        raise NotImplementedError
        yield  # pragma: no cover

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        raise NotImplementedError


class FakeShop(_NoIO):
    name = "fakeshop"
    config_model = ShopSettings
    reads = {"customers": Customer, "orders": Order}
    writes = {"customers": Customer}


class FakeSheet(_NoIO):
    name = "fakesheet"
    config_model = SheetSettings
    reads = {"customers": Customer}


class FakePlugin:
    @hookimpl
    def crmhub_connectors(self) -> list[type[Connector]]:
        return [FakeShop, FakeSheet]
