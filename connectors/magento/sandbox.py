"""A local emulator of Magento 2.4's admin REST API for customers and orders.

It follows Adobe's Apache-2.0 material (admin-schema-2.4.9.yaml and the
doc pages, extracts in tests/fixtures/vendor/magento2/):

- Paths ``/rest/V1/...`` and ``/rest/{store_code}/V1/...``; store codes
  ``default``, ``all`` and any given to the constructor. Another code is 404
  "The store that was requested wasn't found", as 2.4 answers.
- ``Authorization: Bearer <integration token>``. A missing, unknown or expired
  token is 401 ``{"message": "The consumer isn't authorized to access
  %resources.", "parameters": {"resources": "Magento_Customer::customer"}}``.
- Errors are ``{"message", "parameters"}`` with ``%1``/``%name`` placeholders
  (gs-web-api-response.md); an unknown id is 404 "No such entity with
  %fieldName = %fieldValue"; an unknown route 404 "Request does not match any
  route."; throttling 429 ``{"message":"Too Many Requests","trace":null}``
  without Retry-After (rate-limiting.md); a server failure 500 "Internal
  Error. Details are available in Magento log file."
- ``GET /V1/customers/search`` and ``GET /V1/orders`` take the whole
  searchCriteria grammar (:mod:`connectors.magento.criteria`) and answer
  ``{"items", "search_criteria", "total_count"}``; a ``currentPage`` past the
  end answers the last page again. Timestamps are UTC ``Y-m-d H:i:s``.
- ``POST /V1/customers`` creates (400 when the e-mail is taken in the
  website); ``PUT /V1/customers/{id}`` replaces the whole customer: a field the
  body leaves out is cleared, except ``addresses`` (absent keeps them) and
  ``extension_attributes.is_subscribed`` (absent keeps the subscription).
  ``email``, ``firstname`` and ``lastname`` are required (the schema's
  ``required``). ``DELETE /V1/customers/{id}`` answers ``true``.

Magento has no general REST rate limit (rate limiting guards payment
endpoints only), so the sandbox sets none; :class:`~hub.testing.faults.Fault`
serves 429s on demand.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.magento.criteria import CriteriaError, parse
from connectors.magento.fixtures import customer_of, orders_of
from connectors.magento.mapping import MagentoRecord, format_time
from hub.http import Clock
from hub.testing.fake import fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["TOKEN", "MagentoSandbox"]

TOKEN = "magento-sandbox-integration-token"
_RESOURCES = {"customers": "Magento_Customer::customer", "orders": "Magento_Sales::sales"}
_CUSTOMER_FIELDS = frozenset(
    {
        "group_id", "default_billing", "default_shipping", "confirmation", "dob", "email",
        "firstname", "lastname", "middlename", "prefix", "suffix", "gender", "store_id",
        "taxvat", "website_id", "disable_auto_group_change", "custom_attributes",
    }
)  # fmt: skip
_EMAIL_TAKEN = "A customer with the same email address already exists in an associated website."
_SEARCH_ALIASES = {"entity_id": "id"}
_ADDRESS_REQUIRED = ("firstname", "lastname", "street", "city", "country_id", "telephone")


class _Refused(Exception):
    def __init__(self, status: int, message: str, parameters: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.parameters = status, message, parameters


class MagentoSandbox(Sandbox):
    """Customers and orders in memory behind Magento's paths, auth, search and errors."""

    def __init__(self, *, clock: Clock | None = None, store_codes: tuple[str, ...] = ()) -> None:
        super().__init__(clock=clock)
        self.customers: dict[int, MagentoRecord] = {}
        self.orders: dict[int, MagentoRecord] = {}
        self.tokens = {TOKEN}
        self.store_codes = {"default", "all", *store_codes}
        self._customer_ids = itertools.count(1)
        self._address_ids = itertools.count(1)
        self._order_ids = itertools.count(1)

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for root in ("/rest/V1", "/rest/{store_code}/V1"):
            routes += [
                Route(root + "/customers/search", self._search_customers, methods=["GET"]),
                Route(root + "/customers", self._create, methods=["POST"]),
                Route(root + "/customers/{customer_id}", self._get_customer, methods=["GET"]),
                Route(root + "/customers/{customer_id}", self._replace, methods=["PUT"]),
                Route(root + "/customers/{customer_id}", self._delete, methods=["DELETE"]),
                Route(root + "/orders", self._search_orders, methods=["GET"]),
                Route(root + "/orders/{order_id}", self._get_order, methods=["GET"]),
            ]
        return routes

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        if code in ("not_found", "method_not_allowed"):  # the router's refusals
            message = "Request does not match any route."
        return self._refusal(_Refused(status, message), headers)

    def throttled(self, retry_after: float) -> Response:
        return JSONResponse({"message": "Too Many Requests", "trace": None}, 429)

    def expired_token(self) -> Response:
        return self._unauthorized("customers")

    def outage(self, status: int) -> Response:
        message = "Internal Error. Details are available in Magento log file. Report ID: %1"
        return self._refusal(_Refused(status, message, ["webapi-sandbox"]))

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self.tokens:
            return None
        return self._unauthorized("orders" if "/V1/orders" in request.url.path else "customers")

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "access_token": "${MAGENTO_SANDBOX_TOKEN}"}

    def environment(self) -> dict[str, str]:
        return {"MAGENTO_SANDBOX_TOKEN": TOKEN}

    def _unauthorized(self, entity: str) -> Response:
        message = "The consumer isn't authorized to access %resources."
        return self._refusal(_Refused(401, message, {"resources": _RESOURCES[entity]}))

    def _refusal(self, refused: _Refused, headers: Mapping[str, str] | None = None) -> Response:
        body: dict[str, Any] = {"message": refused.message}
        if refused.parameters is not None:
            body["parameters"] = refused.parameters
        return JSONResponse(body, refused.status, dict(headers or {}))

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        for person in fake_people(count, seed=seed):
            customer_id = next(self._customer_ids)
            customer = customer_of(person, customer_id, next(self._address_ids))
            self.customers[customer_id] = customer
            guest = person.number % 5 == 0
            for order in orders_of(person, None if guest else customer_id):
                self._add_order(order)

    def records(self, stream: str) -> dict[str, MagentoRecord]:
        """Customers (by ``id``) or orders (by ``entity_id``) as the search serves them."""
        held = self.customers if _stream(stream) == "customers" else self.orders
        return {str(key): copy.deepcopy(value) for key, value in held.items()}

    def add_invalid(self, stream: str) -> str:
        """A customer with an e-mail no mapping accepts, or an order in no real currency."""
        stamp = format_time(self.stamp())
        if _stream(stream) == "orders":
            order = next(iter(self.orders.values()))
            broken = copy.deepcopy(order) | {"order_currency_code": "EURO", "updated_at": stamp}
            return str(self._add_order(broken)["entity_id"])
        customer_id = next(self._customer_ids)
        self.customers[customer_id] = {
            "id": customer_id, "group_id": 1, "created_at": stamp, "updated_at": stamp,
            "email": "ann@@example.com", "firstname": "Ann", "lastname": "Legacy",
            "store_id": 1, "website_id": 1, "addresses": [],
        }  # fmt: skip
        return str(customer_id)

    def touch(self, stream: str, external_id: str) -> None:
        """A shop admin edits a customer's last name, or moves an order on to complete."""
        stamp = format_time(self.stamp())
        if _stream(stream) == "orders":
            self.orders[int(external_id)].update(
                state="complete", status="complete", updated_at=stamp
            )
            return
        customer = self.customers[int(external_id)]
        customer.update(lastname=f"{customer['lastname']}-Edited", updated_at=stamp)

    def _add_order(self, order: MagentoRecord) -> MagentoRecord:
        entity_id = next(self._order_ids)
        order = {**order, "entity_id": entity_id, "increment_id": f"{entity_id:09d}"}
        for position, item in enumerate(order.get("items") or [], start=1):
            item.update(item_id=entity_id * 100 + position, order_id=entity_id)
        self.orders[entity_id] = order
        return order

    # Routes.

    async def _search_customers(self, request: Request) -> Response:
        return self._search(request, "customers", list(self.customers.values()))

    async def _search_orders(self, request: Request) -> Response:
        return self._search(request, "orders", list(self.orders.values()))

    def _search(self, request: Request, entity: str, rows: list[MagentoRecord]) -> Response:
        try:
            self._check_store(request)
            criteria = parse(request.query_params)
            page, total = criteria.select(rows, _reader(entity))
        except CriteriaError as exc:
            return self._refusal(_Refused(400, exc.message, exc.parameters))
        except _Refused as exc:
            return self._refusal(exc)
        return JSONResponse(
            {"items": copy.deepcopy(page), "search_criteria": criteria.echo(), "total_count": total}
        )

    async def _get_customer(self, request: Request) -> Response:
        try:
            self._check_store(request)
            return JSONResponse(self._customer(request.path_params["customer_id"]))
        except _Refused as exc:
            return self._refusal(exc)

    async def _get_order(self, request: Request) -> Response:
        try:
            self._check_store(request)
            order = self.orders.get(_int(request.path_params["order_id"]))
            if order is None:
                raise _Refused(
                    404,
                    "The entity that was requested doesn't exist. Verify the entity and try again.",
                )
            return JSONResponse(order)
        except _Refused as exc:
            return self._refusal(exc)

    async def _create(self, request: Request) -> Response:
        try:
            self._check_store(request)
            body = await _customer_body(request)
            website = int(body.get("website_id") or 1)
            self._email_free(body["email"], website, None)
            stamp = format_time(self.stamp())
            customer_id = next(self._customer_ids)
            customer = {"id": customer_id, "created_at": stamp, "created_in": "Default Store View"}
            self._apply(customer, body, stamp)
            self.customers[customer_id] = customer
            return JSONResponse(customer)
        except _Refused as exc:
            return self._refusal(exc)

    async def _replace(self, request: Request) -> Response:
        try:
            self._check_store(request)
            customer = self._customer(request.path_params["customer_id"])
            body = await _customer_body(request)
            website = int(body.get("website_id") or customer.get("website_id") or 1)
            self._email_free(body["email"], website, customer["id"])
            self._apply(customer, body, format_time(self.stamp()))
            return JSONResponse(customer)
        except _Refused as exc:
            return self._refusal(exc)

    async def _delete(self, request: Request) -> Response:
        try:
            self._check_store(request)
            customer = self._customer(request.path_params["customer_id"])
        except _Refused as exc:
            return self._refusal(exc)
        del self.customers[customer["id"]]
        return JSONResponse(True)

    # What the routes share.

    def _check_store(self, request: Request) -> None:
        code = request.path_params.get("store_code")
        if code is not None and code not in self.store_codes:
            raise _Refused(
                404, "The store that was requested wasn't found. Verify the store and try again."
            )

    def _customer(self, raw_id: str) -> MagentoRecord:
        customer = self.customers.get(_int(raw_id))
        if customer is None:
            raise _Refused(
                404,
                "No such entity with %fieldName = %fieldValue",
                {"fieldName": "customerId", "fieldValue": raw_id},
            )
        return customer

    def _email_free(self, email: str, website: int, owner: int | None) -> None:
        for other in self.customers.values():
            same = str(other.get("email", "")).casefold() == email.casefold()
            if same and other.get("website_id") == website and other["id"] != owner:
                raise _Refused(400, _EMAIL_TAKEN)

    def _apply(self, customer: MagentoRecord, body: MagentoRecord, stamp: str) -> None:
        """Replace the customer's fields with the body's, as the repository's save does."""
        for name in _CUSTOMER_FIELDS:
            if name in body:
                customer[name] = body[name]
            else:
                customer.pop(name, None)
        customer.setdefault("group_id", 1)
        customer.setdefault("store_id", 1)
        customer.setdefault("website_id", 1)
        if body.get("addresses") is not None:
            customer["addresses"] = [self._address(a, customer["id"]) for a in body["addresses"]]
        customer.setdefault("addresses", [])
        for kind in ("default_billing", "default_shipping"):
            # One default of each per customer; the address flags are read from it.
            ids = [str(a["id"]) for a in customer["addresses"]]
            flagged = [str(a["id"]) for a in customer["addresses"] if a.get(kind)]
            held = customer.get(kind) if customer.get(kind) in ids else None
            chosen = flagged[0] if flagged else held
            if chosen is None:
                customer.pop(kind, None)
            else:
                customer[kind] = chosen
            for address in customer["addresses"]:
                address[kind] = str(address["id"]) == chosen
        subscribed = (body.get("extension_attributes") or {}).get("is_subscribed")
        held = customer.get("extension_attributes") or {"is_subscribed": False}
        if isinstance(subscribed, bool):
            held = {**held, "is_subscribed": subscribed}
        customer["extension_attributes"] = held
        customer["updated_at"] = stamp

    def _address(self, address: MagentoRecord, customer_id: int) -> MagentoRecord:
        missing = [name for name in _ADDRESS_REQUIRED if not address.get(name)]
        if missing:
            raise _Refused(
                400, '"%fieldName" is required. Enter and try again.', {"fieldName": missing[0]}
            )
        region = address.get("region") or {}
        return {
            **address,
            "id": address.get("id") or next(self._address_ids),
            "customer_id": customer_id,
            "region": {
                "region_code": region.get("region_code"),
                "region": region.get("region"),
                "region_id": region.get("region_id") or 0,
            },
            "region_id": region.get("region_id") or 0,
        }


def _stream(stream: str) -> str:
    if stream not in ("customers", "orders"):
        raise ValueError(f"the Magento sandbox has no stream {stream!r}; it has customers, orders")
    return stream


def _int(raw: str) -> int:
    return int(raw) if raw.isdigit() else -1


def _reader(entity: str) -> Any:
    def value_of(row: Mapping[str, Any], name: str) -> Any:
        key = _SEARCH_ALIASES.get(name, name) if entity == "customers" else name
        if entity == "customers" and name == "id":
            raise CriteriaError("Invalid attribute name: %1", name)
        if key not in row and key not in _SEARCHABLE[entity]:
            raise CriteriaError("Invalid attribute name: %1", name)
        value = row.get(key)
        return None if isinstance(value, (dict, list)) else value

    return value_of


_SEARCHABLE = {
    "customers": _CUSTOMER_FIELDS | {"id", "created_at", "updated_at", "created_in"},
    "orders": frozenset(
        {
            "entity_id", "increment_id", "state", "status", "customer_id", "customer_email",
            "customer_is_guest", "created_at", "updated_at", "store_id", "grand_total",
            "order_currency_code", "customer_firstname", "customer_lastname",
        }
    ),
}  # fmt: skip


async def _customer_body(request: Request) -> MagentoRecord:
    try:
        body = await request.json()
    except ValueError:
        raise _Refused(400, "Decoding error: %1", ["the body is not JSON"]) from None
    customer = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(customer, dict):
        raise _Refused(
            400, '"%fieldName" is required. Enter and try again.', {"fieldName": "customer"}
        )
    for name in ("email", "firstname", "lastname"):
        if not customer.get(name):
            raise _Refused(
                400, '"%fieldName" is required. Enter and try again.', {"fieldName": name}
            )
    if "@" not in str(customer["email"]):
        raise _Refused(400, '"%1" is not a valid email address.', [customer["email"]])
    return customer
