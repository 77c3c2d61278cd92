"""The rate-budget accounting and the ledger the Shopify sandbox keeps for it."""

from __future__ import annotations

import pytest

from bench.rate_budget import LEDGER_PATH, Answer, LedgerShopify, account
from connectors.shopify import queries
from connectors.shopify.sandbox import TOKEN
from hub.http import VirtualClock

pytestmark = pytest.mark.anyio


def test_the_allowance_is_the_full_bucket_plus_what_restores_until_the_last_request() -> None:
    answers = [
        Answer(at=100.0, requested=72, charged=1500, throttled=False),
        Answer(at=104.0, requested=72, charged=None, throttled=True),
        Answer(at=110.0, requested=72, charged=900, throttled=False),
    ]
    budget = account(answers, maximum=2000, restore_rate=100)
    assert budget.seconds == 10.0
    assert budget.allowed == 3000.0  # 2,000 at the start + 100 a second for 10 s
    assert budget.charged == 2400.0  # the refused request is charged nothing
    assert budget.share_used == pytest.approx(0.8)
    assert budget.requests == 3 and budget.throttled == 1
    assert budget.throttles_per_10k == pytest.approx(10_000 / 3)


def test_an_empty_ledger_spent_nothing_and_was_refused_nothing() -> None:
    budget = account([], maximum=2000, restore_rate=100)
    assert (budget.requests, budget.share_used, budget.throttles_per_10k) == (0, 0.0, 0.0)


def test_the_json_form_carries_the_derived_figures() -> None:
    answers = [Answer(0.0, 52, 52, False), Answer(2.0, 52, 52, False)]
    figures = account(answers, maximum=100, restore_rate=10).as_json()
    assert figures["share_used"] == round(104 / 120, 4)
    assert figures["throttles_per_10k"] == 0.0


async def test_the_ledger_records_charged_and_throttled_answers() -> None:
    shop = LedgerShopify(clock=VirtualClock())
    shop.populate(30, orders=0)
    document = queries.page_query("customers", queries.CUSTOMER_FIELDS)
    body = {"query": document, "variables": {"first": 10, "after": None, "query": None}}
    headers = {"X-Shopify-Access-Token": TOKEN}
    async with shop.client() as client:
        first = await client.post("/admin/api/2025-01/graphql.json", json=body, headers=headers)
        shop.bucket.available = 0  # the virtual clock stands still: nothing restores
        second = await client.post("/admin/api/2025-01/graphql.json", json=body, headers=headers)
        ledger = (await client.get(LEDGER_PATH, headers=headers)).json()
    charged = first.json()["extensions"]["cost"]["actualQueryCost"]
    assert second.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert (ledger["maximum"], ledger["restore_rate"]) == (2000, 100)
    assert [(a["requested"], a["charged"], a["throttled"]) for a in ledger["answers"]] == [
        (72, charged, False),
        (72, None, True),
    ]
    assert charged > 0
