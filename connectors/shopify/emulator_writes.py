"""The sandbox's mutations: customer writes, consent, tags, as Shopify answers them.

Invalid input is never a GraphQL error: it comes back as ``userErrors``
(``field`` path and ``message``) with a null result, as the Admin API does:
an e-mail that is not one ("Email is invalid"), an e-mail or phone another
customer has ("Email has already been taken"), a phone that is not a phone
number ("Phone is invalid"), an unknown id ("Customer does not exist").
Consent changes on an existing customer must go through the consent
mutations; ``customerUpdate`` refuses them, as the Admin API does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import phonenumbers
from graphql import GraphQLObjectType, GraphQLSchema

from connectors.shopify.emulator import Node, ShopState, gid

__all__ = ["Writes", "iso"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_FIELDS = {
    "firstName": "firstName",
    "lastName": "lastName",
    "email": "email",
    "phone": "phone",
    "note": "note",
    "locale": "locale",
}

Changed = Callable[[str, Node], None]


def iso(moment: datetime) -> str:
    """Shopify's DateTime: UTC, to the second, with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(field: list[str] | None, message: str) -> Node:
    return {"field": field, "message": message}


class Writes:
    """Mutation resolvers over one :class:`ShopState`; ``changed`` hears each change."""

    def __init__(
        self, state: ShopState, stamp: Callable[[], datetime], changed: Changed | None = None
    ) -> None:
        self.state = state
        self.stamp = stamp
        self.changed = changed or (lambda topic, node: None)
        self._numbers = itertools.count(7_000_000_001)

    def bind(self, schema: GraphQLSchema) -> None:
        mutation = schema.mutation_type
        assert isinstance(mutation, GraphQLObjectType)
        for name, resolve in {
            "customerCreate": self.customer_create,
            "customerUpdate": self.customer_update,
            "customerDelete": self.customer_delete,
            "customerEmailMarketingConsentUpdate": self.email_consent,
            "customerSmsMarketingConsentUpdate": self.sms_consent,
            "tagsAdd": self.tags_add,
            "tagsRemove": self.tags_remove,
        }.items():
            mutation.fields[name].resolve = resolve

    def next_id(self, kind: str) -> str:
        return gid(kind, next(self._numbers))

    # Customers.

    def customer_create(self, _: Any, info: Any, input: Node) -> Node:
        errors = self._check(input, None)
        if not any(input.get(key) for key in ("email", "phone", "firstName", "lastName")):
            errors.append(_error(None, "A name, phone number, or email address must be present"))
        if input.get("id"):
            errors.append(_error(["id"], "Id must not be set when creating a customer"))
        if errors:
            return {"customer": None, "userErrors": errors}
        now = iso(self.stamp())
        customer: Node = {
            "id": self.next_id("Customer"),
            "firstName": None,
            "lastName": None,
            "email": None,
            "phone": None,
            "note": None,
            "locale": "en",
            "tags": [],
            "state": "DISABLED",
            "verifiedEmail": False,
            "addresses": [],
            "emailMarketingConsent": None,
            "smsMarketingConsent": None,
            "createdAt": now,
            "updatedAt": now,
        }
        self._apply(customer, input)
        for channel in ("emailMarketingConsent", "smsMarketingConsent"):
            if input.get(channel):
                customer[channel] = _consent(input[channel], now)
        self._default_consent(customer)
        self.state.customers[customer["id"]] = customer
        self.changed("customers/create", customer)
        return {"customer": customer, "userErrors": []}

    def customer_update(self, _: Any, info: Any, input: Node) -> Node:
        customer = self.state.customers.get(input.get("id") or "")
        if customer is None:
            return {"customer": None, "userErrors": [_error(["id"], "Customer does not exist")]}
        errors = self._check(input, customer["id"])
        for channel, mutation in (
            ("emailMarketingConsent", "customerEmailMarketingConsentUpdate"),
            ("smsMarketingConsent", "customerSmsMarketingConsentUpdate"),
        ):
            if channel in input:
                errors.append(
                    _error(
                        [channel],
                        f"To update {channel}, please use the {mutation} Mutation instead",
                    )
                )
        if errors:
            return {"customer": None, "userErrors": errors}
        self._apply(customer, input)
        self._default_consent(customer)
        self._touch(customer)
        return {"customer": customer, "userErrors": []}

    def customer_delete(self, _: Any, info: Any, input: Node) -> Node:
        customer_id = input["id"]
        if customer_id not in self.state.customers:
            return {
                "deletedCustomerId": None,
                "userErrors": [_error(["id"], "Customer can't be found")],
            }
        if self.state.orders_of.get(customer_id):
            message = "Customer can\u2019t be deleted because they have existing orders"
            return {"deletedCustomerId": None, "userErrors": [_error(["id"], message)]}
        customer = self.state.customers.pop(customer_id)
        self.changed("customers/delete", customer)
        return {"deletedCustomerId": customer_id, "userErrors": []}

    def email_consent(self, _: Any, info: Any, input: Node) -> Node:
        return self._consent_update(input, "emailMarketingConsent")

    def sms_consent(self, _: Any, info: Any, input: Node) -> Node:
        return self._consent_update(input, "smsMarketingConsent")

    def _consent_update(self, input: Node, channel: str) -> Node:
        customer = self.state.customers.get(input["customerId"])
        if customer is None:
            errors = [_error(["input", "customerId"], "Customer not found")]
            return {"customer": None, "userErrors": errors}
        needed = "email" if channel == "emailMarketingConsent" else "phone"
        if not customer.get(needed):
            message = f"A customer must have {'an email' if needed == 'email' else 'a phone'}"
            errors = [_error(["input", channel], f"{message} to have {channel} set")]
            return {"customer": None, "userErrors": errors}
        customer[channel] = _consent(input[channel], iso(self.stamp()))
        self._touch(customer)
        return {"customer": customer, "userErrors": []}

    # Tags, on customers and orders alike.

    def tags_add(self, _: Any, info: Any, id: str, tags: list[str]) -> Node:
        return self._tags(id, tags, add=True)

    def tags_remove(self, _: Any, info: Any, id: str, tags: list[str]) -> Node:
        return self._tags(id, tags, add=False)

    def _tags(self, node_id: str, tags: list[str], *, add: bool) -> Node:
        node = self.state.customers.get(node_id) or self.state.orders.get(node_id)
        if node is None:
            return {"node": None, "userErrors": [_error(["id"], "Resource does not exist")]}
        wanted = {tag.strip() for tag in tags if tag.strip()}
        current = set(node.get("tags") or [])
        updated = current | wanted if add else current - wanted
        if updated != current:
            node["tags"] = sorted(updated)
            self._touch(node)
        return {"node": node, "userErrors": []}

    # Helpers.

    def _touch(self, node: Node) -> None:
        node["updatedAt"] = iso(self.stamp())
        kind = "customers" if node["id"].split("/")[3] == "Customer" else "orders"
        self.changed(f"{kind}/update{'d' if kind == 'orders' else ''}", node)

    def _check(self, input: Node, own_id: str | None) -> list[Node]:
        errors: list[Node] = []
        email, phone = input.get("email"), input.get("phone")
        if email:
            if not _EMAIL.match(email):
                errors.append(_error(["email"], "Email is invalid"))
            elif self._holder("email", email.casefold(), own_id):
                errors.append(_error(["email"], "Email has already been taken"))
        if phone:
            normalized = _e164(phone)
            if normalized is None:
                errors.append(_error(["phone"], "Phone is invalid"))
            elif self._holder("phone", normalized, own_id):
                errors.append(_error(["phone"], "Phone has already been taken"))
        for index, tag in enumerate(input.get("tags") or []):
            if len(tag) > 255:
                errors.append(_error(["tags", str(index)], "Tag is too long (maximum is 255)"))
        return errors

    def _holder(self, field: str, value: str, own_id: str | None) -> bool:
        for customer in self.state.customers.values():
            held = customer.get(field) or ""
            held = held.casefold() if field == "email" else held
            if held == value and customer["id"] != own_id:
                return True
        return False

    def _apply(self, customer: Node, input: Node) -> None:
        for key, field in _FIELDS.items():
            if key in input:
                value = input[key]
                if key == "phone" and value:
                    value = _e164(value)
                customer[field] = value or None if key != "locale" else (value or "en")
        if "tags" in input:
            customer["tags"] = sorted({t.strip() for t in input["tags"] or [] if t.strip()})
        if "addresses" in input:
            customer["addresses"] = [self._address(address) for address in input["addresses"] or []]

    def _address(self, given: Node) -> Node:
        address = {key: given.get(key) for key in _ADDRESS_KEYS}
        code = given.get("countryCode")
        address.update(
            id=self.next_id("MailingAddress"),
            countryCodeV2=code,
            country=_COUNTRY_NAMES.get(code or ""),
            province=given.get("provinceCode"),
        )
        return address

    @staticmethod
    def _default_consent(customer: Node) -> None:
        """Shopify shows NOT_SUBSCRIBED for a channel the customer can be reached on."""
        if customer.get("email") and customer.get("emailMarketingConsent") is None:
            customer["emailMarketingConsent"] = {
                "marketingState": "NOT_SUBSCRIBED",
                "marketingOptInLevel": "SINGLE_OPT_IN",
                "consentUpdatedAt": None,
            }
        if customer.get("phone") and customer.get("smsMarketingConsent") is None:
            customer["smsMarketingConsent"] = {
                "marketingState": "NOT_SUBSCRIBED",
                "marketingOptInLevel": "SINGLE_OPT_IN",
                "consentUpdatedAt": None,
            }


_ADDRESS_KEYS = (
    "address1",
    "address2",
    "city",
    "company",
    "provinceCode",
    "zip",
    "firstName",
    "lastName",
    "phone",
)
_COUNTRY_NAMES = {
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IT": "Italy",
    "PT": "Portugal",
    "NL": "Netherlands",
    "BE": "Belgium",
    "IE": "Ireland",
    "US": "United States",
    "CA": "Canada",
    "MX": "Mexico",
}


def _consent(given: Node, now: str) -> Node:
    updated = given.get("consentUpdatedAt")
    return {
        "marketingState": given["marketingState"],
        "marketingOptInLevel": given.get("marketingOptInLevel") or "SINGLE_OPT_IN",
        "consentUpdatedAt": iso(updated) if isinstance(updated, datetime) else updated or now,
    }


def _e164(phone: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
