"""Table tests: spreadsheet row <-> canonical record."""

from __future__ import annotations

import pytest

from connectors.files.mapping import customer_to_row, known_target, row_to_customer, rows_to_order
from hub.model import Customer

COLUMNS = {
    "id": "external_id",
    "mail": "email",
    "given": "first_name",
    "family": "last_name",
    "tel": "phone",
    "town": "address.city",
    "land": "address.country",
    "news": "consent.email",
    "vat": "identifier:tax_id",
    "tier": "attribute:tier",
    "labels": "tags",
    "via": "acquisition.source",
}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {
                "id": "7",
                "mail": "Ann@Example.com",
                "given": "Ann",
                "family": "Smith",
                "tel": "612345678",
                "town": "Madrid",
                "land": "ES",
                "news": "yes",
                "vat": "B1",
                "tier": "gold",
                "labels": "vip; b2b",
                "via": "instagram",
            },
            {
                "first_name": "Ann",
                "last_name": "Smith",
                "emails": ["ann@example.com"],
                "phones": ["+34612345678"],
                "addresses": [{"city": "Madrid", "country": "ES"}],
                "consents": {"email": {"status": "subscribed", "source": "sheet"}},
                "identifiers": {"tax_id": "B1"},
                "attributes": {"tier": "gold"},
                "tags": ["b2b", "vip"],
                "acquisition": {"source": "instagram"},
            },
        ),
        (
            {"id": "8", "mail": "", "given": "Bo", "news": "no"},
            {
                "first_name": "Bo",
                "consents": {"email": {"status": "unsubscribed", "source": "sheet"}},
            },
        ),
    ],
)
def test_row_to_customer(row: dict[str, str], expected: dict[str, object]) -> None:
    external_id, data = row_to_customer(row, COLUMNS, "sheet")
    assert external_id == row["id"]
    assert Customer.model_validate(data).canonical_dict() == expected


@pytest.mark.parametrize(
    ("row", "message"),
    [({"mail": "a@example.com"}, "external_id"), ({"id": "1", "news": "maybe"}, "not yes/no")],
)
def test_row_errors_name_the_problem(row: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        row_to_customer(row, COLUMNS, "sheet")


def test_customer_round_trips_through_a_row() -> None:
    row = {
        "id": "7",
        "mail": "ann@example.com",
        "given": "Ann",
        "family": "Smith",
        "tel": "+34612345678",
        "town": "Madrid",
        "land": "ES",
        "news": "subscribed",
        "vat": "B1",
        "tier": "gold",
        "labels": "b2b;vip",
        "via": "instagram",
    }
    external_id, data = row_to_customer(row, COLUMNS, "sheet")
    customer = Customer.model_validate(data)
    assert customer_to_row(external_id, customer, COLUMNS) == row


def test_order_rows_fold_into_one_order_with_lines() -> None:
    columns = {
        "oid": "external_id",
        "total": "total",
        "cur": "currency",
        "at": "placed_at",
        "sku": "line.sku",
        "qty": "line.quantity",
        "price": "line.unit_price",
        "name": "line.name",
    }
    rows = [
        {
            "oid": "O1",
            "total": "30",
            "cur": "EUR",
            "at": "2024-01-01T10:00:00Z",
            "sku": "A",
            "qty": "1",
            "price": "10",
            "name": "Mug",
        },
        {
            "oid": "O1",
            "total": "30",
            "cur": "EUR",
            "at": "2024-01-01T10:00:00Z",
            "sku": "B",
            "qty": "2",
            "price": "10",
            "name": "Cap",
        },
    ]
    external_id, order = rows_to_order(rows, columns)
    assert external_id == "O1"
    assert [line["sku"] for line in order["lines"]] == ["A", "B"]
    assert order["total"] == "30"


@pytest.mark.parametrize(
    ("target", "orders", "known"),
    [
        ("email", False, True),
        ("address.city", False, True),
        ("identifier:vat", False, True),
        ("emial", False, False),
        ("line.sku", True, True),
        ("line.sku", False, False),
        ("total", True, True),
    ],
)
def test_known_targets(target: str, orders: bool, known: bool) -> None:
    assert known_target(target, orders=orders) is known
