"""A re-read skips payloads its links already applied, and only those.

The connector below counts its ``to_canonical`` calls, so each test sees which
records were mapped again and which were recognised by their payload hash.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from hub.connector import Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.pull import stage_page
from hub.engine.rawskip import RawHasher
from hub.store.database import Store
from hub.store.tables import Link
from tests.hub.engine.fakes import ListConnector, customers, pull

pytestmark = pytest.mark.anyio


class CountingConnector(ListConnector):
    """A ListConnector that counts the payloads it maps, by vendor id."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mapped: list[str] = []

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        self.mapped.append(str(raw.get("id")))
        return super().to_canonical(stream, raw)


def _people(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "first_name": f"Name{i}", "emails": [f"p{i}@example.com"]} for i in range(n)
    ]


def _raw_hashes(store: Store) -> dict[str, str | None]:
    with store.session() as session:
        return {link.external_id: link.raw_hash for link in session.exec(select(Link))}


async def test_a_full_reread_maps_only_the_changed_payloads(store: Store) -> None:
    records = _people(7)
    first = CountingConnector("shop", records, page_size=3)
    await pull(store, first)
    assert sorted(first.mapped) == sorted(r["id"] for r in records)

    records[4] = {**records[4], "last_name": "Changed"}
    again = CountingConnector("shop", records, page_size=3)
    ctx = await pull(store, again, full=True, run_id=2)
    assert again.mapped == ["c4"]
    assert ctx.counts["unchanged"] == 6 and ctx.counts["updated"] == 1
    assert ctx.counts["read"] == 7
    assert {"first_name": "Name4", "last_name": "Changed", "emails": ["p4@example.com"]} in (
        customers(store)
    )


async def test_links_made_before_the_hash_existed_learn_it_from_an_unchanged_reread(
    store: Store,
) -> None:
    """Stores migrated from 0006 hold links without a hash: the first re-read fills them in."""
    records = _people(3)
    await pull(store, CountingConnector("shop", records))
    with store.session() as session:
        for link in session.exec(select(Link)):
            link.raw_hash = None
            session.add(link)
        session.commit()

    second = CountingConnector("shop", records)
    ctx = await pull(store, second, full=True, run_id=2)
    assert sorted(second.mapped) == ["c0", "c1", "c2"]
    assert ctx.counts["unchanged"] == 3
    assert all(_raw_hashes(store).values())

    third = CountingConnector("shop", records)
    await pull(store, third, full=True, run_id=3)
    assert third.mapped == []


async def test_a_changed_mapping_maps_every_payload_again(store: Store) -> None:
    """The hash is salted with the connection's settings: the same payload may map differently."""
    records = [{"id": "c1", "first_name": "Ann", "phones": ["611222333"]}]
    await pull(store, CountingConnector("shop", records, default_region="ES"))
    moved = CountingConnector("shop", records, default_region="FR")
    await pull(store, moved, full=True, run_id=2)
    assert moved.mapped == ["c1"]
    assert customers(store)[0]["phones"] == ["+33611222333"]


async def test_a_page_that_repeats_an_id_applies_its_last_version(store: Store) -> None:
    """v2 equals the stored payload, but v1 comes first in the page: both must be mapped."""
    v1 = {"id": "c1", "first_name": "Old", "emails": ["ann@example.com"]}
    v2 = {"id": "c1", "first_name": "New", "emails": ["ann@example.com"]}
    await pull(store, CountingConnector("shop", [v2]))
    both = CountingConnector("shop", [v1, v2], page_size=2)
    await pull(store, both, full=True, run_id=2)
    assert both.mapped == ["c1", "c1"]
    assert [c["first_name"] for c in customers(store)] == ["New"]


async def test_a_record_changed_without_its_payload_is_mapped_again(store: Store) -> None:
    """A webhook (or a retried dead letter) applies a record with no payload hash.

    The vendor then sends the first payload again on a pull: it must be
    mapped, not skipped against the hash the link held before the webhook.
    """
    old = {"id": "c1", "first_name": "Ann", "emails": ["ann@example.com"]}
    await pull(store, CountingConnector("shop", [old]))
    hook = CountingConnector("shop", [])
    ctx = StreamContext(store, hook, "customers", run_id=2)
    webhook = {"id": "c1", "first_name": "Annie", "emails": ["ann@example.com"]}
    with store.session() as session:
        stage_page(
            session,
            ctx,
            Page(records=[webhook], cursor=None),
            [hook.to_canonical("customers", webhook)],
            [],
            move_cursor=False,
        )
        session.commit()
    assert _raw_hashes(store) == {"c1": None}

    again = CountingConnector("shop", [old])
    await pull(store, again, full=True, run_id=3)
    assert again.mapped == ["c1"]


class RenamingConnector(CountingConnector):
    """Maps payload ``id`` n to vendor id ``n+1``: the guessed id is never the mapped one."""

    def to_canonical(self, stream: str, raw: RawRecord) -> SourceRecord:
        mapped = super().to_canonical(stream, raw)
        return SourceRecord(str(int(mapped.external_id) + 1), mapped.record, mapped.updated_at)


async def test_no_hash_is_kept_when_the_payload_id_is_not_the_mapped_id(store: Store) -> None:
    records = [{"id": str(n), "first_name": f"P{n}", "emails": [f"p{n}@x.com"]} for n in (1, 2)]
    await pull(store, RenamingConnector("shop", records))
    assert _raw_hashes(store) == {"2": None, "3": None}
    again = RenamingConnector("shop", records)
    await pull(store, again, full=True, run_id=2)
    assert again.mapped == ["1", "2"]


def test_secrets_do_not_change_the_hash_and_settings_do() -> None:
    from pydantic import BaseModel, SecretStr

    from hub.connector import Connector

    class Settings(BaseModel):
        token: SecretStr
        region: str

    class Vendor(ListConnector):
        config_model = Settings

    def hasher(token: str, region: str) -> RawHasher:
        connector: Connector = Vendor("shop", [])
        connector.config = Settings(token=SecretStr(token), region=region)
        return RawHasher(connector, "customers")

    raw = {"id": 1, "name": "Ann"}
    assert hasher("a", "eu").digest(raw) == hasher("b", "eu").digest(raw)
    assert hasher("a", "eu").digest(raw) != hasher("a", "us").digest(raw)
    assert not RawHasher(Vendor("shop", []), "orders").enabled
