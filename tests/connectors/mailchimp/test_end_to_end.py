"""Shop -> hub -> Mailchimp and back, through the real engine and the sandbox on loopback.

The shop is the file connector for now (it reads only, so an unsubscribe
reaches the hub, not the shop's sheet). Writes at the sandbox are counted,
so "nothing changed" means nothing was written.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, MailchimpSandbox
from hub.config import load_config
from hub.engine.runner import StreamResult, sync
from hub.plugins import load_plugins
from hub.store.database import Store, open_store
from hub.store.tables import CustomerRow
from hub.testing.serve import running

SHOP_ROWS = [
    {
        "id": "C1",
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "phone": "+447700000001",
        "street": "1 High St",
        "city": "Leeds",
        "postcode": "LS1 1AA",
        "country": "GB",
        "newsletter": "yes",
        "tags": "vip",
    },
    {
        "id": "C2",
        "email": "bob@example.com",
        "first_name": "Bob",
        "last_name": "Ray",
        "phone": "",
        "street": "",
        "city": "",
        "postcode": "",
        "country": "",
        "newsletter": "no",
        "tags": "",
    },
    {
        "id": "C3",
        "email": "carl@example.com",
        "first_name": "Carl",
        "last_name": "Mos",
        "phone": "",
        "street": "",
        "city": "",
        "postcode": "",
        "country": "",
        "newsletter": "yes",
        "tags": "",
    },
]
COLUMNS = {
    "id": "external_id",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "street": "address.line1",
    "city": "address.city",
    "postcode": "address.postcode",
    "country": "address.country",
    "newsletter": "consent.email",
    "tags": "tags",
}


class World:
    def __init__(self, tmp_path: Path, sandbox: MailchimpSandbox, url: str) -> None:
        with (tmp_path / "shop.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(SHOP_ROWS[0]))
            writer.writeheader()
            writer.writerows(SHOP_ROWS)
        (tmp_path / "key.secret").write_text(API_KEY, encoding="utf-8")
        config = {
            "store": "sqlite:///hub.db",
            "connections": {
                "shop": {
                    "connector": "files",
                    "direction": "pull",
                    "streams": ["customers"],
                    "config": {"path": "shop.csv", "columns": COLUMNS},
                },
                "newsletter": {
                    "connector": "mailchimp",
                    "direction": "both",
                    "streams": ["customers"],
                    "config": {
                        **sandbox.config_for(url),
                        "api_key": "file:key.secret",
                        "batch_poll_seconds": 0.05,
                    },
                },
            },
        }
        path = tmp_path / "crmhub.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.plugins = load_plugins()
        self.config = load_config(path, self.plugins)
        self.store: Store = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
        self.sandbox = sandbox
        self.statuses: list[dict[str, str]] = []

    def sync(self) -> list[StreamResult]:
        results = asyncio.run(sync(self.store, self.config, self.plugins))
        assert all(r.status == "succeeded" for r in results), [r.error for r in results]
        self.statuses.append(
            {m["email_address"]: m["status"] for m in self.sandbox.members.values()}
        )
        return results

    def member(self, email: str) -> dict[str, Any]:
        return self.sandbox.members[subscriber_hash(email)]

    def hub_consent(self, email: str) -> str | None:
        with self.store.session() as session:
            row = session.exec(select(CustomerRow).where(CustomerRow.primary_email == email)).one()
        return ((row.data.get("consents") or {}).get("email") or {}).get("status")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sandbox = MailchimpSandbox(batch_seconds=0)
    sandbox.add_member("carl@example.com", "subscribed", {"FNAME": "Carl", "LNAME": "Mos"})
    with running(sandbox) as url:
        world = World(tmp_path, sandbox, url)
        yield world
        world.store.close()


def test_shop_and_mailchimp_stay_in_step_and_consent_is_never_invented(world: World) -> None:
    world.sync()
    ann = world.member("ann@example.com")
    assert ann["merge_fields"]["FNAME"] == "Ann" and ann["merge_fields"]["LNAME"] == "Lee"
    assert ann["merge_fields"]["PHONE"] == "+447700000001"
    assert ann["merge_fields"]["ADDRESS"]["addr1"] == "1 High St"
    assert ann["merge_fields"]["ADDRESS"]["country"] == "GB"
    assert [t["name"] for t in ann["tags"]] == ["vip"]
    assert world.member("bob@example.com")["status"] == "unsubscribed"  # the shop's "no"

    world.sandbox.set_status("carl@example.com", "unsubscribed")
    world.sync()
    assert world.hub_consent("carl@example.com") == "unsubscribed"

    settled = (world.sandbox.writes, len(world.sandbox.requests))
    world.sync()
    world.sync()
    new_requests = world.sandbox.requests[settled[1] :]
    assert world.sandbox.writes == settled[0]
    assert [r for r in new_requests if r.method != "GET"] == []

    for statuses in world.statuses:  # no opt-in anywhere was recorded, so none anywhere
        assert statuses["ann@example.com"] != "subscribed"
        assert statuses["bob@example.com"] != "subscribed"
