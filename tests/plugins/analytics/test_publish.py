"""Recommendations reach Mailchimp merge fields through the real engine and the sandbox.

The shop of tests/plugins/analytics/shop.py and a Mailchimp audience on
loopback; every sync recomputes the recommendations after its pulls, so they
go out with the same pass's pushes.
Writes at the sandbox are counted: "nothing changed" means nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from connectors.mailchimp.mapping import subscriber_hash
from connectors.mailchimp.sandbox import API_KEY, MailchimpSandbox
from hub.store.tables import CustomerRow
from hub.testing.serve import running
from tests.plugins.analytics.shop import BASKETS, ShopWorld, write_orders

MERGE_FIELDS = {
    "FNAME": "first_name",
    "NEXTBUY": "recommendations.next_best_product",
    "UPSELL": "recommendations.up_sell",
    "FAVCAT": "recommendations.affinity",
}


class World(ShopWorld):
    def __init__(self, tmp_path: Path, sandbox: MailchimpSandbox, url: str) -> None:
        (tmp_path / "key.secret").write_text(API_KEY, encoding="utf-8")
        newsletter = {
            "connector": "mailchimp",
            "direction": "both",
            "streams": ["customers"],
            "config": {
                **sandbox.config_for(url),
                "api_key": "file:key.secret",
                "merge_fields": MERGE_FIELDS,
            },
        }
        super().__init__(tmp_path, "newsletter", newsletter)
        self.sandbox = sandbox

    def merge_fields(self, person: str) -> dict[str, Any]:
        fields = self.sandbox.members[subscriber_hash(f"{person}@example.com")]["merge_fields"]
        return {tag: fields.get(tag) for tag in ("NEXTBUY", "UPSELL", "FAVCAT")}

    def hub_record(self, person: str) -> CustomerRow:
        with self.store.session() as session:
            return session.exec(
                select(CustomerRow).where(CustomerRow.primary_email == f"{person}@example.com")
            ).one()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sandbox = MailchimpSandbox(batch_seconds=0)
    # The audience has text merge fields for the recommendations, as a user creates them.
    sandbox.merge_types.update({tag: "text" for tag in ("NEXTBUY", "UPSELL", "FAVCAT")})
    with running(sandbox) as url:
        world = World(tmp_path, sandbox, url)
        yield world
        world.store.close()


def test_recommendations_reach_merge_fields_and_follow_recomputation_without_ping_pong(
    world: World,
) -> None:
    world.sync()
    # 5 buyers; TENT -> STOVE: 2 bought both (support 0.4), lift 2*5/(3*2) = 1.67.
    # Carl lacks the stove. Up-sell: the dearer TENTPRO in the favourite category.
    assert world.merge_fields("carl") == {
        "NEXTBUY": "STOVE",
        "UPSELL": "TENTPRO",
        "FAVCAT": "camping",
    }
    assert world.merge_fields("ann") == {"NEXTBUY": "", "UPSELL": "TENTPRO", "FAVCAT": "camping"}
    assert world.merge_fields("dana") == {"NEXTBUY": "", "UPSELL": "", "FAVCAT": "apparel"}
    carl = world.hub_record("carl")
    assert carl.data["recommendations"]["next_best_product"] == "STOVE"
    assert carl.provenance["recommendations"][0] == "analytics"

    writes = world.sandbox.writes
    world.sync()
    world.sync()
    assert world.sandbox.writes == writes  # read back unchanged: nothing written anywhere

    write_orders(world.orders, {**BASKETS, "carl": ["TENT", "STOVE"]})
    world.sync()
    assert world.merge_fields("carl") == {"NEXTBUY": "", "UPSELL": "TENTPRO", "FAVCAT": "camping"}
    assert "next_best_product" not in world.hub_record("carl").data["recommendations"]
    writes = world.sandbox.writes
    world.sync()
    assert world.sandbox.writes == writes


def test_a_value_edited_in_mailchimp_never_overwrites_the_hubs_recommendation(
    world: World,
) -> None:
    world.sync()
    member = world.sandbox.members[subscriber_hash("carl@example.com")]
    member["merge_fields"]["NEXTBUY"] = "SOCKS"
    member["last_changed"] = "2030-01-01T00:00:00+00:00"
    world.config.analytics.refresh_after_sync = False  # the pull alone, no recomputation

    world.sync()

    assert world.hub_record("carl").data["recommendations"]["next_best_product"] == "STOVE"
