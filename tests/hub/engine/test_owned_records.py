"""Interactions and campaigns belong to the source that reports them, like orders.

A CRM's service tickets and a marketing tool's campaigns reach the unified
record through the same pull as customers: stored once, replaced only by a
later version from the same source, and hung off the customer the source
names (its own id, else the e-mail).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from hub.store.database import Store
from hub.store.tables import CampaignRow, InteractionRow
from tests.hub.engine.fakes import ListConnector, customer_of, pull

pytestmark = pytest.mark.anyio

PEOPLE = [
    {"id": "c1", "first_name": "Ann", "emails": ["ann@example.com"]},
    {"id": "c2", "first_name": "Bob", "emails": ["bob@example.com"]},
]
TICKETS = [
    {
        "id": "t1",
        "kind": "ticket",
        "occurred_at": "2025-03-01T09:00:00+00:00",
        "customer_ref": "c1",
        "subject": "Parcel arrived damaged",
        "status": "open",
    },
    {
        "id": "t2",
        "kind": "ticket",
        "occurred_at": "2025-03-02T09:00:00+00:00",
        "customer_email": "bob@example.com",
        "subject": "Invoice copy",
        "status": "closed",
    },
]
CAMPAIGNS = [
    {
        "id": "k1",
        "name": "Spring sale",
        "channel": "email",
        "sends": 1000,
        "opens": 420,
        "spend": "150.00",
        "currency": "EUR",
        "updated_at": "2025-03-05T10:00:00+00:00",
    }
]


def _crm(**streams: list[dict[str, Any]]) -> ListConnector:
    return ListConnector("crm", PEOPLE, page_size=10, **streams)


def _rows(store: Store, table: type[Any]) -> list[Any]:
    with store.session() as session:
        return list(session.exec(select(table)))


async def test_tickets_hang_off_the_customer_named_by_id_or_by_e_mail(store: Store) -> None:
    crm = _crm(interactions=TICKETS)
    await pull(store, crm)
    ctx = await pull(store, crm, stream="interactions")

    assert ctx.counts["created"] == 2
    owners = {row.subject: row.customer_hub_id for row in _rows(store, InteractionRow)}
    assert owners == {
        "Parcel arrived damaged": customer_of(store, "crm", "c1"),
        "Invoice copy": customer_of(store, "crm", "c2"),
    }


async def test_campaign_figures_are_stored_and_replaced_only_by_a_newer_version(
    store: Store,
) -> None:
    crm = _crm(campaigns=CAMPAIGNS)
    first = await pull(store, crm, stream="campaigns")
    again = await pull(store, crm, stream="campaigns", full=True)
    assert (first.counts["created"], again.counts["unchanged"]) == (1, 1)

    crm.records["campaigns"] = [CAMPAIGNS[0] | {"opens": 455}]
    changed = await pull(store, crm, stream="campaigns", full=True)

    [row] = _rows(store, CampaignRow)
    assert changed.counts["updated"] == 1
    assert (row.name, row.opens, row.spend, row.source) == (
        "Spring sale",
        455,
        Decimal("150.00"),
        "crm",
    )


async def test_the_same_campaign_id_from_two_sources_is_two_campaigns(store: Store) -> None:
    await pull(store, _crm(campaigns=CAMPAIGNS), stream="campaigns")
    ads = ListConnector("ads", campaigns=[CAMPAIGNS[0] | {"name": "Spring ads"}])
    await pull(store, ads, stream="campaigns")

    assert sorted((r.source, r.name) for r in _rows(store, CampaignRow)) == [
        ("ads", "Spring ads"),
        ("crm", "Spring sale"),
    ]


async def test_an_e_mail_names_the_customer_it_identifies_and_no_one_when_it_links_no_one(
    store: Store,
) -> None:
    """Any linking e-mail of the customer counts; a shared or role address names no one."""
    people = [
        *PEOPLE,
        {"id": "c3", "first_name": "Cy", "emails": ["cy@example.com", "cy.work@example.com"]},
        {"id": "c4", "first_name": "Dee", "emails": ["ann@example.com"]},  # Ann's, shared
        {"id": "c5", "first_name": "Eli", "emails": ["info@shop.example"]},  # a role address
    ]
    tickets = [
        {
            "id": f"t{n}",
            "kind": "ticket",
            "occurred_at": "2025-03-01T09:00:00+00:00",
            "customer_email": email,
            "subject": email,
        }
        for n, email in enumerate(["cy.work@example.com", "ann@example.com", "info@shop.example"])
    ]
    crm = ListConnector("crm", people, page_size=10, interactions=tickets)
    await pull(store, crm)
    await pull(store, crm, stream="interactions")

    owners = {row.subject: row.customer_hub_id for row in _rows(store, InteractionRow)}
    assert owners == {
        "cy.work@example.com": customer_of(store, "crm", "c3"),
        "ann@example.com": None,
        "info@shop.example": None,
    }
