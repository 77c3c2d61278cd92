"""The file connector passes the standard suite; its "vendor" is a folder of CSV files.

Faults, expiring credentials and incremental reads cannot apply to a local
file, so those checks are declared unsupported and show up as skipped, with
the reason, in every run.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from connectors.files.config import FilesConfig
from connectors.files.connector import FilesConnector
from hub.connector import Connector, RawRecord
from hub.model import CanonicalRecord, Order, OrderLine, OrderStatus
from hub.testing.fake import fake_people
from hub.testing.kit import ConnectorTestKit

CUSTOMER_COLUMNS = {
    "id": "external_id",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "street": "address.line1",
    "city": "address.city",
    "postcode": "address.postcode",
    "country": "address.country",
    "birth_date": "birth_date",
    "language": "language",
    "newsletter": "consent.email",
}
ORDER_COLUMNS = {
    "order_id": "external_id",
    "customer_id": "customer_ref",
    "placed_at": "placed_at",
    "currency": "currency",
    "total": "total",
    "status": "status",
    "sku": "line.sku",
    "product": "line.name",
    "qty": "line.quantity",
    "price": "line.unit_price",
}
VISIT_COLUMNS = {
    "visit": "external_id",
    "at": "occurred_at",
    "customer_id": "customer_ref",
    "page": "subject",
    "count": "visits",
}
PRODUCTS = [("SKU-JEAN", "Jeans", "59.00"), ("SKU-MUG", "Mug", "9.50"), ("SKU-CAP", "Cap", "12.00")]


class Folder:
    """A customers file and an orders file (one row per order line), as a shop exports them."""

    def __init__(self, root: Path) -> None:
        self.paths = {
            "customers": root / "customers.csv",
            "orders": root / "orders.csv",
            "interactions": root / "visits.csv",  # a web analytics export
        }
        self.columns = {
            "customers": CUSTOMER_COLUMNS,
            "orders": ORDER_COLUMNS,
            "interactions": VISIT_COLUMNS,
        }

    def populate(self, count: int, *, seed: int = 1) -> None:
        customers, orders = [], []
        for person in fake_people(count, seed=seed):
            customer_id = f"C{person.number:05d}"
            customers.append(
                {
                    "id": customer_id,
                    "email": person.email,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "phone": person.phone,
                    "street": person.street,
                    "city": person.city,
                    "postcode": person.postcode,
                    "country": person.country,
                    "birth_date": person.birth_date.isoformat(),
                    "language": person.language,
                    "newsletter": "yes" if person.email_consent else "no",
                }
            )
            lines = PRODUCTS[: 1 + person.number % len(PRODUCTS)]
            total = sum(Decimal(price) for _, _, price in lines)
            placed = person.created_at + timedelta(days=person.number % 40)
            orders += [
                {
                    "order_id": f"O{person.number:05d}",
                    "customer_id": customer_id,
                    "placed_at": placed.isoformat(),
                    "currency": "EUR",
                    "total": str(total),
                    "status": "closed",
                    "sku": sku,
                    "product": name,
                    "qty": "1",
                    "price": price,
                }
                for sku, name, price in lines
            ]
        self._write("customers", customers)
        self._write("orders", orders)
        visits = [
            {
                "visit": f"V{number:05d}",
                "at": f"2024-03-{1 + number % 28:02d}T10:00:00+00:00",
                "customer_id": f"C{number:05d}" if number % 3 else "",
                "page": "/products",
                "count": "1",
            }
            for number in range(1, count + 1)
        ]
        self._write("interactions", visits)

    def records(self, stream: str) -> dict[str, RawRecord]:
        """Records as the connector reads them: a row per customer, ``{"rows": [...]}`` an order."""
        rows = self._rows(stream)
        if stream == "customers":
            return {row["id"]: row for row in rows}
        if stream == "interactions":
            return {row["visit"]: row for row in rows}
        return {key: {"rows": list(group)} for key, group in groupby(rows, lambda r: r["order_id"])}

    def add_invalid(self, stream: str) -> str:
        rows = self._rows(stream)
        bad = dict(rows[-1])
        if stream == "customers":
            bad.update(id="C99999", email="ann@@example.com")
        elif stream == "interactions":
            bad.update(visit="V99999", count="a few")
        else:
            bad.update(order_id="O99999", currency="EURO")
        self._write(stream, [*rows, bad])
        key = {"customers": "id", "interactions": "visit"}.get(stream, "order_id")
        return bad[key]

    def touch(self, stream: str, external_id: str) -> None:
        key, field, value = {
            "customers": ("id", "last_name", "Edited"),
            "interactions": ("visit", "page", "/checkout"),
        }.get(stream, ("order_id", "status", "cancelled"))
        rows = self._rows(stream)
        for row in rows:
            if row[key] == external_id:
                row[field] = value
        self._write(stream, rows)

    def _rows(self, stream: str) -> list[dict[str, str]]:
        with self.paths[stream].open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def _write(self, stream: str, rows: list[dict[str, str]]) -> None:
        with self.paths[stream].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.columns[stream]))
            writer.writeheader()
            writer.writerows(rows)


class TestFilesConnector(ConnectorTestKit[Folder]):
    connector_class = FilesConnector
    unsupported = {
        "faults": "a local file has no network: nothing throttles, fails or times out",
        "auth": "a local file has no credentials to expire",
        "incremental": "a changed file is read again from the top; the engine recognises "
        "the unchanged rows, which the 'change' check verifies",
    }

    def make_sandbox(self, tmp_path: Path) -> Folder:
        return Folder(tmp_path)

    def make_connector(self, sandbox: Folder) -> Connector:
        config = FilesConfig.model_validate(
            {
                "path": sandbox.paths["customers"],
                "columns": CUSTOMER_COLUMNS,
                "page_size": 10,
                "orders": {
                    "path": sandbox.paths["orders"],
                    "columns": ORDER_COLUMNS,
                    "page_size": 10,
                },
                "interactions": {
                    "path": sandbox.paths["interactions"],
                    "columns": VISIT_COLUMNS,
                    "kind": "web_visit",
                    "channel": "web",
                    "page_size": 10,
                },
            }
        )
        return FilesConnector(config, connection="kit")

    def samples(self, stream: str) -> list[CanonicalRecord]:
        if stream == "customers":
            return super().samples(stream)
        return [
            Order(
                customer_ref="C00001",
                placed_at="2024-03-01T10:00:00+00:00",
                currency="EUR",
                total=Decimal("78.00"),
                status=OrderStatus.CLOSED,
                lines=[
                    OrderLine(
                        sku="SKU-JEAN", name="Jeans", quantity=1, unit_price=Decimal("59.00")
                    ),
                    OrderLine(sku="SKU-MUG", name="Mug", quantity=2, unit_price=Decimal("9.50")),
                ],
            ),
            Order(
                customer_ref="C00002",
                placed_at="2024-03-02T11:30:00+00:00",
                currency="GBP",
                total=Decimal("12.00"),
                lines=[
                    OrderLine(sku="SKU-CAP", name="Cap", quantity=1, unit_price=Decimal("12.00"))
                ],
            ),
        ]
