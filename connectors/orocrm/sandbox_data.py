"""The Oro sandbox's records: how they are made, kept consistent, and shown to the kit.

Relationships are kept both ways, as Oro's database does: an address names
its contact as ``owner`` and the contact lists it under ``addresses``; an
account lists its ``contacts`` and each contact its ``accounts``. Removing a
contact removes its addresses and clears it from accounts, opportunities and
Magento customers (Oro's SET NULL).

The kit's streams are the connector's: ``customers`` (contacts),
``accounts`` (the contacts of accounts, keyed by contact id, since an account
reaches the hub as the company of its contacts), ``opportunities`` and
``magento_customers`` (keyed ``magentocustomers:<id>``).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from connectors.orocrm.mapping_sales import MAGENTO_PREFIX
from connectors.orocrm.sandbox_query import iso, related
from connectors.orocrm.sandbox_writes import CONTACT_WRITABLE
from hub.testing.fake import FakePerson, fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["STREAMS", "SandboxData"]

STREAMS = ("customers", "accounts", "opportunities", "magento_customers")
_SOURCES = ("website", "call", "email", "other")
_STATUSES = ("in_progress", "won", "lost")
_FIRMS = ("Consulting", "Trading", "& Partners", "Studio")


def _ref(kind: str, resource_id: int | str) -> dict[str, str]:
    return {"type": kind, "id": str(resource_id)}


class SandboxData(Sandbox):
    store: dict[str, dict[int, dict[str, Any]]]
    _ids: dict[str, itertools.count[int]]

    @property
    def contacts(self) -> dict[int, dict[str, Any]]:
        return self.store["contacts"]

    @property
    def addresses(self) -> dict[int, dict[str, Any]]:
        return self.store["contactaddresses"]

    @property
    def accounts(self) -> dict[int, dict[str, Any]]:
        return self.store["accounts"]

    @property
    def opportunities(self) -> dict[int, dict[str, Any]]:
        return self.store["opportunities"]

    @property
    def magento_customers(self) -> dict[int, dict[str, Any]]:
        return self.store["magentocustomers"]

    # Keeping records and their relationships.

    def add_contact(
        self, values: dict[str, Any], stamp: str, *, source: str | None = None
    ) -> dict[str, Any]:
        contact_id = next(self._ids["contacts"])
        contact = {
            "type": "contacts",
            "id": str(contact_id),
            "attributes": {name: values.get(name) for name in sorted(CONTACT_WRITABLE)}
            | {"emails": values.get("emails") or [], "phones": values.get("phones") or []}
            | {"createdAt": stamp, "updatedAt": stamp},
            "relationships": {
                "source": {"data": _ref("contactsources", source) if source else None},
                "owner": {"data": _ref("users", 1)},
                "addresses": {"data": []},
                "accounts": {"data": []},
            },
        }
        self.contacts[contact_id] = contact
        return contact

    def add_address(
        self,
        owner: dict[str, Any],
        attributes: dict[str, Any],
        relationships: dict[str, Any],
        stamp: str,
    ) -> dict[str, Any]:
        address_id = next(self._ids["contactaddresses"])
        address = {
            "type": "contactaddresses",
            "id": str(address_id),
            "attributes": {"primary": False, "customRegion": None}
            | attributes
            | {"createdAt": stamp, "updatedAt": stamp},
            "relationships": {"region": {"data": None}, "types": {"data": []}}
            | relationships
            | {"owner": {"data": _ref("contacts", owner["id"])}},
        }
        self.addresses[address_id] = address
        owner["relationships"]["addresses"]["data"].append(_ref("contactaddresses", address_id))
        if attributes.get("primary") or len(owner["relationships"]["addresses"]["data"]) == 1:
            self.make_primary(address)
        owner["attributes"]["updatedAt"] = stamp
        return address

    def make_primary(self, address: dict[str, Any]) -> None:
        """One primary address per contact: marking one unmarks the others."""
        owner = self.contacts[int(related(address, "owner")[0]["id"])]
        for item in related(owner, "addresses"):
            self.addresses[int(item["id"])]["attributes"]["primary"] = item["id"] == address["id"]

    def add_account(self, name: str, members: list[dict[str, Any]], stamp: str) -> dict[str, Any]:
        account_id = next(self._ids["accounts"])
        account = {
            "type": "accounts",
            "id": str(account_id),
            "attributes": {"name": name, "createdAt": stamp, "updatedAt": stamp},
            "relationships": {
                "contacts": {"data": [_ref("contacts", c["id"]) for c in members]},
                "defaultContact": {"data": _ref("contacts", members[0]["id"]) if members else None},
                "owner": {"data": _ref("users", 1)},
            },
        }
        self.accounts[account_id] = account
        for contact in members:
            contact["relationships"]["accounts"]["data"].append(_ref("accounts", account_id))
        return account

    def remove(self, kind: str, resource_id: int) -> None:
        resource = self.store[kind].pop(resource_id)
        if kind == "contactaddresses":
            for item in related(resource, "owner"):
                owner = self.contacts.get(int(item["id"]))
                if owner is not None:
                    held = owner["relationships"]["addresses"]["data"]
                    held[:] = [a for a in held if a["id"] != resource["id"]]
            return
        if kind != "contacts":
            return
        for item in related(resource, "addresses"):
            self.addresses.pop(int(item["id"]), None)
        for account in self.accounts.values():
            members = account["relationships"]["contacts"]["data"]
            members[:] = [c for c in members if c["id"] != resource["id"]]
        for other in itertools.chain(self.opportunities.values(), self.magento_customers.values()):
            if [c["id"] for c in related(other, "contact")] == [resource["id"]]:
                other["relationships"]["contact"]["data"] = None

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        """Per person: a contact with a home address, an account, an opportunity, and the
        Magento customer Oro's Magento integration keeps for them."""
        for person in fake_people(count, seed=seed):
            stamp = iso(person.created_at)
            contact = self.add_contact(
                {
                    "firstName": person.first_name,
                    "lastName": person.last_name,
                    "birthday": person.birth_date.isoformat(),
                    "gender": ("male", "female", None)[person.number % 3],
                    "primaryEmail": person.email,
                    "emails": [{"email": person.email}],
                    "primaryPhone": person.phone,
                    "phones": [{"phone": person.phone}],
                },
                stamp,
                source=_SOURCES[person.number % len(_SOURCES)],
            )
            self.add_address(
                contact,
                {"street": person.street, "city": person.city, "postalCode": person.postcode,
                 "primary": True},
                {"country": {"data": _ref("countries", person.country)},
                 "types": {"data": [_ref("addresstypes", "billing")]}},
                stamp,
            )  # fmt: skip
            account = self.add_account(_account_name(person), [contact], stamp)
            self.add_opportunity(person, contact, account, stamp)
            self.add_magento_customer(person, contact, account, stamp)

    def add_opportunity(
        self, person: FakePerson, contact: dict[str, Any], account: dict[str, Any], stamp: str
    ) -> dict[str, Any]:
        opportunity_id = next(self._ids["opportunities"])
        status = _STATUSES[person.number % len(_STATUSES)]
        amount = f"{(person.number % 9 + 1) * 1250}.0000"
        opportunity = {
            "type": "opportunities",
            "id": str(opportunity_id),
            "attributes": {
                "name": f"{account['attributes']['name']}: renewal",
                "closeDate": person.created_at.date().replace(day=28).isoformat(),
                "probability": {"won": 1.0, "lost": 0.0}.get(status, 0.5),
                "budgetAmountValue": amount,
                "budgetAmountCurrency": "EUR",
                "closeRevenueValue": amount if status == "won" else None,
                "closeRevenueCurrency": "EUR" if status == "won" else None,
                "customerNeed": None,
                "proposedSolution": None,
                "notes": None,
                "createdAt": stamp,
                "updatedAt": stamp,
            },
            "relationships": {
                "status": {"data": _ref("opportunitystatuses", status)},
                "closeReason": {"data": None},
                "contact": {"data": _ref("contacts", contact["id"])},
                "account": {"data": _ref("accounts", account["id"])},
                "owner": {"data": _ref("users", 1)},
            },
        }
        self.opportunities[opportunity_id] = opportunity
        return opportunity

    def add_magento_customer(
        self, person: FakePerson, contact: dict[str, Any], account: dict[str, Any], stamp: str
    ) -> dict[str, Any]:
        customer_id = next(self._ids["magentocustomers"])
        customer = {
            "type": "magentocustomers",
            "id": str(customer_id),
            "attributes": {
                "firstName": person.first_name,
                "lastName": person.last_name,
                "birthday": person.birth_date.isoformat(),
                "email": person.email,
                "vat": None,
                "originId": person.number,
                "confirmed": True,
                "guest": False,
                "isActive": True,
                "lifetime": "0.0000",
                "currency": "EUR",
                "createdAt": stamp,
                "updatedAt": stamp,
            },
            "relationships": {
                "website": {"data": _ref("magentowebsites", 1)},
                "store": {"data": _ref("magentostores", 1)},
                "contact": {"data": _ref("contacts", contact["id"])},
                "account": {"data": _ref("accounts", account["id"])},
                "owner": {"data": _ref("users", 1)},
            },
        }
        self.magento_customers[customer_id] = customer
        return customer

    def records(self, stream: str) -> dict[str, dict[str, Any]]:
        """Records by the id the connector reports, shaped as the connector receives them."""
        if stream == "customers":
            return {str(key): self.with_included(c) for key, c in self.contacts.items()}
        if stream == "accounts":
            return {
                str(key): self.with_included(c)
                for key, c in self.contacts.items()
                if related(c, "accounts")
            }
        if stream == "opportunities":
            return {str(key): copy.deepcopy(o) for key, o in self.opportunities.items()}
        _only(stream)
        return {
            f"{MAGENTO_PREFIX}{key}": copy.deepcopy(m) | {"included": self._accounts_of(m)}
            for key, m in self.magento_customers.items()
        }

    def _accounts_of(self, resource: dict[str, Any]) -> list[dict[str, Any]]:
        found = [self.accounts.get(int(item["id"])) for item in related(resource, "account")]
        return [copy.deepcopy(account) for account in found if account is not None]

    def with_included(self, contact: dict[str, Any]) -> dict[str, Any]:
        """A contact with its addresses and accounts under ``included``, as one record."""
        included = []
        for kind, name in (("contactaddresses", "addresses"), ("accounts", "accounts")):
            included += [
                copy.deepcopy(self.store[kind][int(i["id"])]) for i in related(contact, name)
            ]
        return copy.deepcopy(contact) | {"included": included}

    def add_invalid(self, stream: str) -> str:
        stamp = iso(self.stamp())
        if stream in ("customers", "accounts"):
            contact = self.add_contact(
                {"lastName": "Legacy", "primaryEmail": "ann@@example.com",
                 "emails": [{"email": "ann@@example.com"}]},
                stamp,
            )  # fmt: skip
            if stream == "accounts":
                self.add_account("Legacy Imports", [contact], stamp)
            return str(contact["id"])
        person = next(iter(fake_people(1, seed=404)))
        contact = self.contacts[min(self.contacts)]
        account = self.accounts[min(self.accounts)]
        if stream == "opportunities":
            opportunity = self.add_opportunity(person, contact, account, stamp)
            opportunity["attributes"]["closeDate"] = "31/12/2024"  # a legacy import's format
            return str(opportunity["id"])
        _only(stream)
        customer = self.add_magento_customer(person, contact, account, stamp)
        customer["attributes"]["email"] = "ann@@example.com"
        return f"{MAGENTO_PREFIX}{customer['id']}"

    def touch(self, stream: str, external_id: str) -> None:
        stamp = iso(self.stamp())
        if stream == "customers":
            attributes = self.contacts[int(external_id)]["attributes"]
            attributes["lastName"] = f"{attributes.get('lastName') or ''}-Edited"
        elif stream == "accounts":
            contact = self.contacts[int(external_id)]
            attributes = self.accounts[int(related(contact, "accounts")[0]["id"])]["attributes"]
            attributes["name"] = f"{attributes['name']} (renamed)"
        elif stream == "opportunities":
            attributes = self.opportunities[int(external_id)]["attributes"]
            attributes["probability"] = 0.9
        else:
            _only(stream)
            customer_id = int(external_id.removeprefix(MAGENTO_PREFIX))
            attributes = self.magento_customers[customer_id]["attributes"]
            attributes["lastName"] = f"{attributes['lastName']}-Edited"
        attributes["updatedAt"] = stamp


def _account_name(person: FakePerson) -> str:
    """Every third person buys for themselves (a personal account), the others for a firm."""
    if person.number % 3 == 0:
        return f"{person.first_name} {person.last_name}"
    return f"{person.last_name} {_FIRMS[person.number % len(_FIRMS)]}"


def _only(stream: str) -> None:
    if stream != "magento_customers":
        raise ValueError(f"the Oro sandbox has no stream {stream!r}; it has {', '.join(STREAMS)}")
