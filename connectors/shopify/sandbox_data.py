"""The sandbox shop's contents: seeded customers and orders, and the test kit's helpers.

Customers come from :func:`hub.testing.fake.fake_people`; each has on average
two and a half orders of every status Shopify knows (paid, pending,
authorised, refunded in part or whole, cancelled and voided; fulfilled,
partly fulfilled and not), all seeded from the same number so a seed gives
the same shop everywhere.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from graphql import graphql_sync

from connectors.shopify import queries
from connectors.shopify.emulator import Node, ShopState, gid, money
from connectors.shopify.emulator_writes import Writes, iso
from hub.testing.fake import FakePerson, fake_people

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectors.shopify.sandbox_webhooks import WebhookOutbox

__all__ = ["CATALOG", "SandboxData"]

CATALOG = [
    ("Camiseta de algodón", "TEE-ORG", Decimal("19.90"), "Apparel"),
    ("Taza de cerámica", "MUG-CER", Decimal("12.50"), "Home"),
    ("Libreta A5", "NOTE-A5", Decimal("7.95"), "Stationery"),
    ("Mochila urbana", "BAG-URB", Decimal("64.00"), "Bags"),
    ("Auriculares inalámbricos", "AUD-BT5", Decimal("89.99"), "Electronics"),
    ("Café en grano 1 kg", "COF-1KG", Decimal("24.00"), "Food"),
]
_FINANCIAL = ["PAID"] * 10 + ["PENDING", "AUTHORIZED", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED"]
_SHIPPING = Decimal("4.95")
_TAX_RATE = Decimal("0.21")


class SandboxData:
    """Seeding and inspection; mixed into :class:`~connectors.shopify.sandbox.ShopifySandbox`."""

    state: ShopState
    writes: Writes
    webhooks: WebhookOutbox
    stamp: Callable[[], datetime]

    def populate(self, count: int, *, seed: int = 1, orders: int | None = None) -> None:
        """``count`` customers and ``orders`` orders (two and a half per customer by default)."""
        rng = random.Random(seed)
        people = [self._customer(person) for person in _people(count, seed)]
        self.state.customers.update((customer["id"], customer) for customer in people)
        total = count * 5 // 2 if orders is None else orders
        for _ in range(total):
            buyer = people[rng.randrange(len(people))] if people else None
            self._order(rng, buyer)
        for customer in people:
            placed = [
                self.state.orders[o]["createdAt"]
                for o in self.state.orders_of.get(customer["id"], [])
            ]
            customer["updatedAt"] = max([customer["createdAt"], *placed])

    def _customer(self, person: FakePerson) -> Node:
        created = iso(person.created_at)
        subscribed = person.email_consent
        email_state = (
            "SUBSCRIBED"
            if subscribed
            else ("UNSUBSCRIBED" if person.number % 2 else "NOT_SUBSCRIBED")
        )
        level = "CONFIRMED_OPT_IN" if person.number % 4 == 0 else "SINGLE_OPT_IN"
        customer: Node = {
            "id": gid("Customer", 6_000_000_000 + person.number),
            "firstName": person.first_name,
            "lastName": person.last_name,
            "email": person.email,
            "phone": _own_phone(person),
            "note": "Prefiere envío a tienda" if person.number % 9 == 0 else None,
            "locale": person.language,
            "tags": sorted({"vip"} if person.number % 7 == 0 else set()),
            "state": "ENABLED" if person.number % 3 else "DISABLED",
            "verifiedEmail": True,
            "addresses": [
                {
                    "id": gid("MailingAddress", 8_000_000_000 + person.number),
                    "address1": person.street,
                    "address2": None,
                    "city": person.city,
                    "company": "Comercial Ejemplo S.L." if person.number % 11 == 0 else None,
                    "country": None,
                    "countryCodeV2": person.country,
                    "province": None,
                    "provinceCode": None,
                    "zip": person.postcode,
                    "firstName": person.first_name,
                    "lastName": person.last_name,
                    "phone": None,
                }
            ],
            "emailMarketingConsent": {
                "marketingState": email_state,
                "marketingOptInLevel": level,
                "consentUpdatedAt": created if email_state != "NOT_SUBSCRIBED" else None,
            },
            "smsMarketingConsent": {
                "marketingState": "SUBSCRIBED" if person.number % 5 == 0 else "NOT_SUBSCRIBED",
                "marketingOptInLevel": "SINGLE_OPT_IN",
                "consentUpdatedAt": created if person.number % 5 == 0 else None,
            },
            "createdAt": created,
            "updatedAt": created,
        }
        return customer

    def _order(self, rng: random.Random, buyer: Node | None) -> Node:
        number = len(self.state.orders) + 1001
        start = (
            datetime.fromisoformat(buyer["createdAt"])
            if buyer
            else datetime.fromisoformat("2020-01-01T00:00:00+00:00")
        )
        created = start + timedelta(days=rng.randrange(1, 900), seconds=rng.randrange(86_400))
        lines: list[Node] = []
        for position in range(rng.randint(1, 4)):
            title, sku, price, kind = CATALOG[rng.randrange(len(CATALOG))]
            quantity = rng.randint(1, 3)
            product = {
                "id": gid("Product", 9_000_000 + CATALOG.index((title, sku, price, kind))),
                "title": title,
                "productType": kind,
            }
            lines.append(
                {
                    "id": gid("LineItem", 11_000_000_000 + number * 10 + position),
                    "name": title,
                    "title": title,
                    "sku": sku,
                    "quantity": quantity,
                    "product": product,
                    "originalUnitPriceSet": money(price),
                    "discountedTotalSet": money(price * quantity),
                }
            )
        subtotal = sum(
            (Decimal(line["discountedTotalSet"]["shopMoney"]["amount"]) for line in lines),
            Decimal(0),
        )
        discount = Decimal("5.00") if rng.random() < 0.2 else Decimal(0)
        tax = ((subtotal - discount) * _TAX_RATE).quantize(Decimal("0.01"))
        total = subtotal - discount + _SHIPPING + tax
        financial = _FINANCIAL[rng.randrange(len(_FINANCIAL))]
        refunded = {
            "REFUNDED": total,
            "PARTIALLY_REFUNDED": (total / 2).quantize(Decimal("0.01")),
        }.get(financial, Decimal(0))
        cancelled = financial == "VOIDED" or rng.random() < 0.03
        fulfilment = (
            "UNFULFILLED"
            if cancelled or financial != "PAID"
            else rng.choice(["FULFILLED", "FULFILLED", "PARTIALLY_FULFILLED", "UNFULFILLED"])
        )
        updated = created + timedelta(hours=rng.randrange(1, 240))
        order: Node = {
            "id": gid("Order", 5_000_000_000 + number),
            "name": f"#{number}",
            "email": buyer["email"] if buyer else None,
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "processedAt": iso(created),
            "cancelledAt": iso(updated) if cancelled else None,
            "cancelReason": "CUSTOMER" if cancelled else None,
            "closed": fulfilment == "FULFILLED" and not refunded,
            "closedAt": iso(updated) if fulfilment == "FULFILLED" and not refunded else None,
            "currencyCode": "EUR",
            "displayFinancialStatus": financial,
            "displayFulfillmentStatus": fulfilment,
            "sourceName": rng.choice(["web", "web", "pos", "shopify_draft_order"]),
            "customerId": buyer["id"] if buyer else None,
            "tags": [],
            "lineItems": lines,
            "refunds": [
                {
                    "id": gid("Refund", 12_000_000 + number),
                    "createdAt": iso(updated),
                    "note": None,
                    "totalRefundedSet": money(refunded),
                }
            ]
            if refunded
            else [],
            "subtotalPriceSet": money(subtotal),
            "totalDiscountsSet": money(discount),
            "totalShippingPriceSet": money(_SHIPPING),
            "totalTaxSet": money(tax),
            "totalPriceSet": money(total),
            "totalRefundedSet": money(refunded),
        }
        self.state.add_order(order)
        return order

    # What the test kit asks of a sandbox.

    def records(self, stream: str) -> dict[str, Node]:
        """Every record as the connector reads it (its own selection), by GID."""
        root, fields = _selection(stream)
        result = graphql_sync(
            self.state.schema,
            queries.bulk_query(root, fields),
            context_value={"bulk": True},
        )
        assert result.data is not None, result.errors
        return {edge["node"]["id"]: edge["node"] for edge in result.data[root]["edges"]}

    def add_invalid(self, stream: str) -> str:
        """A customer or order with an e-mail no mapping accepts, as legacy data can have."""
        now = iso(self.stamp())
        if stream == "customers":
            customer = self._customer(next(iter(fake_people(1, seed=4242))))
            customer.update(
                id=gid("Customer", 6_900_000_000),
                email="ann@@example.com",
                createdAt=now,
                updatedAt=now,
            )
            self.state.customers[customer["id"]] = customer
            return str(customer["id"])
        order = self._order(random.Random(4242), None)
        order.update(email="ann@@example.com", updatedAt=now)
        return str(order["id"])

    def touch(self, stream: str, external_id: str) -> None:
        """Edit as a shop owner would: a customer's last name, an order's fulfilment."""
        node = (self.state.customers if stream == "customers" else self.state.orders)[external_id]
        if stream == "customers":
            node["lastName"] = f"{node['lastName'] or ''}-Edited"
        else:
            node["displayFulfillmentStatus"] = "FULFILLED"
        node["updatedAt"] = iso(self.stamp())
        self.webhooks.changed(
            "customers/update" if stream == "customers" else "orders/updated", node
        )


@cache
def _people(count: int, seed: int) -> tuple[FakePerson, ...]:
    """Fake people are slow to make (Faker per locale) and immutable: made once per seed."""
    return tuple(fake_people(count, seed=seed))


def _own_phone(person: FakePerson) -> str:
    """The person's phone with its last four digits moved, so that the kit's sample
    customers (the same fake people) are not refused with "Phone has already been taken"."""
    return f"{person.phone[:-4]}{(person.number + 5000) % 10_000:04d}"


def _selection(stream: str) -> tuple[str, str]:
    if stream == "customers":
        return "customers", queries.CUSTOMER_FIELDS
    if stream == "orders":
        return "orders", queries.order_fields(queries.LINE_ITEMS)
    raise ValueError(f"the Shopify sandbox has no stream {stream!r}; it has customers and orders")
