"""Fake Magento customers and orders, shaped like the responses in Adobe's tutorials.

The shapes follow order-create-customer.md (the customer returned by
``POST /V1/customers``) and order-create-order.md (``GET /V1/orders/{id}``),
copied in tests/fixtures/vendor/magento2/docs/. People come from
:func:`hub.testing.fake.fake_people`, so a seed gives the same shop everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.magento.mapping import MagentoRecord, format_time
from hub.testing.fake import FakePerson

__all__ = ["PRODUCTS", "customer_of", "orders_of"]

PRODUCTS = (
    (1553, "WS12-M-Orange", "Radiant Tee-M-Orange", Decimal("22.00")),
    (1812, "WSH02-31-Yellow", "Erika Running Short-31-Yellow", Decimal("45.00")),
    (694, "24-MB01", "Joust Duffle Bag", Decimal("34.00")),
    (2040, "MT07-L-Gray", "Argus All-Weather Tank-L-Gray", Decimal("22.00")),
)
_GENDERS = (0, 1, 2, 3)
_STATES = (("new", "pending"), ("processing", "processing"), ("complete", "complete"))


def customer_of(person: FakePerson, customer_id: int, address_id: int) -> MagentoRecord:
    """A customer as ``GET /V1/customers/search`` lists it, with one default address."""
    stamp = format_time(person.created_at)
    address: MagentoRecord = {
        "id": address_id,
        "customer_id": customer_id,
        "region": {"region_code": None, "region": None, "region_id": 0},
        "region_id": 0,
        "country_id": person.country,
        "street": [person.street],
        "telephone": person.phone,
        "postcode": person.postcode,
        "city": person.city,
        "firstname": person.first_name,
        "lastname": person.last_name,
        "default_shipping": True,
        "default_billing": True,
    }
    customer: MagentoRecord = {
        "id": customer_id,
        "group_id": 1,
        "default_billing": str(address_id),
        "default_shipping": str(address_id),
        "created_at": stamp,
        "updated_at": stamp,
        "created_in": "Default Store View",
        "dob": person.birth_date.isoformat(),
        "email": person.email,
        "firstname": person.first_name,
        "lastname": person.last_name,
        "gender": _GENDERS[person.number % len(_GENDERS)],
        "store_id": 1,
        "website_id": 1,
        "addresses": [address],
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": person.email_consent},
    }
    if not customer["gender"]:
        del customer["gender"]
    return customer


def orders_of(person: FakePerson, customer_id: int | None) -> Iterator[dict[str, Any]]:
    """The person's orders without ids (the sandbox numbers them): none, one or two.

    ``customer_id`` None makes them guest orders, as checkout without an
    account places them.
    """
    count = (1 if person.number % 4 else 0) + (1 if person.number % 3 == 0 else 0)
    for nth in range(count):
        placed = person.created_at + timedelta(days=1 + 30 * nth, hours=person.number % 24)
        lines = [PRODUCTS[(person.number + k) % len(PRODUCTS)] for k in range(1 + nth)]
        state, status = _STATES[(person.number + nth) % len(_STATES)]
        yield _order(
            person,
            customer_id,
            placed_at=format_time(placed),
            lines=lines,
            state=state,
            status=status,
        )


def _order(
    person: FakePerson,
    customer_id: int | None,
    *,
    placed_at: str,
    lines: list[tuple[int, str, str, Decimal]],
    state: str,
    status: str,
) -> dict[str, Any]:
    quantity = 1 + person.number % 2
    subtotal = sum((price * quantity for *_, price in lines), Decimal(0))
    shipping = Decimal("5.00")
    total = subtotal + shipping
    address = {
        "city": person.city,
        "country_id": person.country,
        "email": person.email,
        "firstname": person.first_name,
        "lastname": person.last_name,
        "postcode": person.postcode,
        "street": [person.street],
        "telephone": person.phone,
    }
    return {
        "base_currency_code": "EUR",
        "base_grand_total": float(total),
        "created_at": placed_at,
        "customer_email": person.email,
        "customer_firstname": person.first_name,
        "customer_group_id": 1 if customer_id else 0,
        "customer_id": customer_id,
        "customer_is_guest": 0 if customer_id else 1,
        "customer_lastname": person.last_name,
        "discount_amount": 0,
        "grand_total": float(total),
        "order_currency_code": "EUR",
        "shipping_amount": float(shipping),
        "shipping_description": "Flat Rate - Fixed",
        "state": state,
        "status": status,
        "store_id": 1,
        "subtotal": float(subtotal),
        "tax_amount": 0,
        "total_paid": float(total) if state != "new" else 0,
        "total_refunded": 0,
        "total_item_count": len(lines),
        "total_qty_ordered": quantity * len(lines),
        "updated_at": placed_at,
        "items": [
            {
                "created_at": placed_at,
                "name": name,
                "price": float(price),
                "product_id": product_id,
                "product_type": "simple",
                "qty_ordered": quantity,
                "row_total": float(price * quantity),
                "sku": sku,
                "updated_at": placed_at,
            }
            for product_id, sku, name, price in lines
        ],
        "billing_address": {"address_type": "billing", **address},
        "payment": {
            "method": "checkmo",
            "amount_ordered": float(total),
            "shipping_amount": float(shipping),
        },
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": {"address_type": "shipping", **address},
                        "method": "flatrate_flatrate",
                        "total": {"shipping_amount": float(shipping)},
                    }
                }
            ]
        },
    }
