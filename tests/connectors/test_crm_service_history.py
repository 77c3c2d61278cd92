"""One person's record gathers a shop's orders and the service tickets of two CRMs.

The shop is a file connection (customers and orders), the CRMs are the
SugarCRM and vTiger sandboxes; all of it goes through the real pull engine
into one store. The person is found by e-mail in all three, so the orders,
the Sugar case and the vTiger ticket end on one customer, and the vTiger
opt-out wins over the subscriptions elsewhere.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from connectors.sugarcrm.sandbox import SugarSandbox
from connectors.vtiger.sandbox import VtigerSandbox
from hub.connector import Connector
from hub.engine.context import StreamContext
from hub.engine.pull import pull_stream
from hub.http import VirtualClock
from hub.store.database import Store
from hub.store.queries import customer_dict, find_customer
from hub.store.tables import CustomerRow, InteractionRow, OrderRow
from tests.connectors.sugarcrm.test_kit import sugar_connector
from tests.connectors.vtiger.test_kit import vtiger_connector

pytestmark = pytest.mark.anyio
EMAIL = "ana.garcia@example.es"


def _shop(tmp_path: Path) -> FilesConnector:
    with (tmp_path / "customers.csv").open("w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerows([("id", "email", "first_name", "newsletter"), ("C1", EMAIL, "Ana", "yes")])
    with (tmp_path / "orders.csv").open("w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(
            ("order_id", "customer_id", "placed_at", "currency", "total", "product", "qty", "price")
        )
        rows.writerow(
            ("O1", "C1", "2024-04-02T10:00:00+00:00", "EUR", "59.00", "Jeans", "1", "59.00")
        )
        rows.writerow(("O2", "C1", "2024-04-20T10:00:00+00:00", "EUR", "19.00", "Mug", "2", "9.50"))
    config = FilesConfig.model_validate(
        {
            "path": tmp_path / "customers.csv",
            "columns": {
                "id": "external_id",
                "email": "email",
                "first_name": "first_name",
                "newsletter": "consent.email",
            },
            "orders": {
                "path": tmp_path / "orders.csv",
                "columns": {
                    "order_id": "external_id",
                    "customer_id": "customer_ref",
                    "placed_at": "placed_at",
                    "currency": "currency",
                    "total": "total",
                    "product": "line.name",
                    "qty": "line.quantity",
                    "price": "line.unit_price",
                },
            },
        }
    )
    return FilesConnector(config, connection="shop")


def _sugar() -> SugarSandbox:
    sandbox = SugarSandbox(clock=VirtualClock())
    sandbox.populate(2, seed=11)
    contact = sandbox.add(
        "customers",
        {
            "last_name": "García",
            "email": [{"email_address": EMAIL.upper(), "primary_address": True, "opt_out": False}],
        },
    )
    sandbox.add("cases", sandbox.case_for(contact["id"], 99) | {"name": "Damaged parcel"})
    return sandbox


def _vtiger() -> VtigerSandbox:
    sandbox = VtigerSandbox(clock=VirtualClock())
    sandbox.populate(2, seed=12)
    contact = sandbox.add(
        "customers", {"lastname": "García", "email": EMAIL, "emailoptout": "1", "phone": ""}
    )
    ticket = {
        "ticket_title": "Refund for the mug",
        "ticketstatus": "Open",
        "contact_id": contact["id"],
    }
    sandbox.add("tickets", ticket)
    return sandbox


async def _pull(store: Store, connector: Connector, *streams: str) -> None:
    for number, stream in enumerate(streams, 1):
        ctx = StreamContext(store, connector, stream, run_id=number)
        await pull_stream(ctx)
        assert ctx.counts["dead_letters"] == 0, (connector.connection, stream)
    await connector.aclose()


async def test_orders_and_both_crms_tickets_land_on_one_customer(
    store: Store, tmp_path: Path
) -> None:
    sugar, vtiger = _sugar(), _vtiger()
    await _pull(store, _shop(tmp_path), "customers", "orders")
    await _pull(store, sugar_connector(sugar, connection="sugar"), "customers", "cases")
    await _pull(store, vtiger_connector(vtiger, connection="vtiger"), "customers", "tickets")

    with store.session() as session:
        ana = find_customer(session, EMAIL)
        assert ana is not None
        customers = len(session.exec(select(CustomerRow)).all())
        orders = session.exec(select(OrderRow).where(OrderRow.customer_hub_id == ana.hub_id)).all()
        tickets = session.exec(
            select(InteractionRow).where(InteractionRow.customer_hub_id == ana.hub_id)
        ).all()
        record = customer_dict(ana)
    assert customers == 1 + 2 + 2  # Ana once, and each CRM's other contacts
    assert sorted(order.total for order in orders) == [19, 59]
    assert sorted((t.source, t.kind, t.subject) for t in tickets) == [
        ("sugar", "ticket", "Damaged parcel"),
        ("vtiger", "ticket", "Refund for the mug"),
    ]
    assert record["consents"]["email"]["status"] == "unsubscribed"  # vTiger's opt-out wins
    assert record["first_name"] == "Ana" and record["last_name"] == "García"
