"""A local emulator of openCRX's REST servlet for the account1 model: contacts and addresses.

openCRX's REST documentation carries no licence, so nothing of it is copied;
this follows the facts it states (summarised in the project's vendor notes)
and the openMDX JSON conventions its clients rely on:

- Paths ``/opencrx-rest-{provider}/org.opencrx.kernel.account1/provider/
  {provider}/segment/{segment}/account[/{id}[/address[/{id}]]]`` and
  ``.../org.opencrx.kernel.activity1/.../activity`` (Incident and PhoneCall
  activities with ``name``, ``activityNumber``, ``activityState``,
  ``scheduledStart`` and a ``reportingContact`` reference), here for
  provider ``CRX`` and segment ``Standard``; HTTP Basic auth (401 with
  ``WWW-Authenticate: Basic``).
- An object is JSON with ``@type`` (``org.opencrx.kernel.account1.Contact``,
  ``...EMailAddress``, ``...PhoneNumber``, ``...PostalAddress``), ``@href``
  (its URL; the last segment is its id, 25 base-36 characters), ``identity``
  (its ``xri://@openmdx*...`` path), ``createdAt`` and ``modifiedAt`` (UTC,
  milliseconds, ``Z``). A list is a result set: ``{"@type":
  "org.openmdx.kernel.ResultSet", "@href", "@hasMore": "true"|"false",
  "objects": [...]}`` paged by ``position`` (default 0) and ``size``
  (default 25).
- ``queryType`` keeps objects of one type (``org:opencrx:kernel:account1:
  Contact``); ``query`` is openMDX's method-call syntax, statements joined by
  ``;``: ``thereExists<Feature>().<op>(<literal>)`` with ``equalTo``,
  ``greaterThan``, ``greaterThanOrEqualTo``, ``lessThan`` and
  ``lessThanOrEqualTo``, and ``orderBy<Feature>().ascending()`` or
  ``.descending()``. Literals are ``"text"`` or ``:datetime:<ISO time>``.
- ``POST`` to a collection creates (answering the object), ``PUT`` to an
  object replaces the attributes sent, ``GET`` reads one; an unknown object is
  404. List attributes (``postalStreet``, ``externalLink``) are JSON arrays.
- Errors are JSON ``{"@type": "org.openmdx.kernel.Exception", "message",
  "exceptionCode"}``; the real server's error bodies are not documented.

openCRX publishes no rate limit; the sandbox sets none.
"""

from __future__ import annotations

import base64
import copy
import random
import re
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pycountry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.opencrx.mapping import CONTACT, EMAIL, PHONE, POSTAL, OpenCrxRecord
from hub.http import Clock
from hub.testing.fake import FakePerson, fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["PASSWORD", "USERNAME", "OpenCrxSandbox"]

USERNAME = "guest"
PASSWORD = "opencrx-sandbox-password"
ROOT = "/opencrx-rest-CRX/org.opencrx.kernel.account1/provider/CRX/segment/Standard"
ACTIVITIES = "/opencrx-rest-CRX/org.opencrx.kernel.activity1/provider/CRX/segment/Standard"
INCIDENT = "org.opencrx.kernel.activity1.Incident"
PHONE_CALL = "org.opencrx.kernel.activity1.PhoneCall"
_XRI = "xri://@openmdx*org.opencrx.kernel.account1/provider/CRX/segment/Standard"
_DEFAULT_SIZE = 25
_STATEMENT = re.compile(r"^(thereExists|orderBy)(\w+)\(\)\.(\w+)\((.*)\)$")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equalTo": lambda a, b: a == b,
    "greaterThan": lambda a, b: a > b,
    "greaterThanOrEqualTo": lambda a, b: a >= b,
    "lessThan": lambda a, b: a < b,
    "lessThanOrEqualTo": lambda a, b: a <= b,
}


class _Failed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class OpenCrxSandbox(Sandbox):
    """Accounts and their addresses in memory behind openCRX's REST paths."""

    def __init__(self, *, clock: Clock | None = None, seed: int = 1) -> None:
        super().__init__(clock=clock)
        self.accounts: dict[str, OpenCrxRecord] = {}
        self.addresses: dict[str, dict[str, OpenCrxRecord]] = {}
        self.activities: dict[str, OpenCrxRecord] = {}
        self._ids = random.Random(seed)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(ROOT + "/account", self._list, methods=["GET"]),
            Route(ACTIVITIES + "/activity", self._list_activities, methods=["GET"]),
            Route(ROOT + "/account", self._create, methods=["POST"]),
            Route(ROOT + "/account/{account}", self._get, methods=["GET"]),
            Route(ROOT + "/account/{account}", self._update, methods=["PUT"]),
            Route(ROOT + "/account/{account}/address", self._addresses, methods=["GET"]),
            Route(ROOT + "/account/{account}/address", self._add_address, methods=["POST"]),
            Route(
                ROOT + "/account/{account}/address/{address}", self._put_address, methods=["PUT"]
            ),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = {"@type": "org.openmdx.kernel.Exception", "message": message, "exceptionCode": code}
        return JSONResponse(body, status, headers)

    def authenticate(self, request: Request) -> Response | None:
        expected = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") == f"Basic {expected}":
            return None
        return self.expired_token()

    def expired_token(self) -> Response:
        """Basic auth has no token: a refused password is the one answer."""
        headers = {"WWW-Authenticate": 'Basic realm="openCRX"'}
        return self.error(401, "AUTHORIZATION_FAILURE", "Unauthorized", headers=headers)

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "username": USERNAME, "password": "${OPENCRX_PASSWORD}"}

    def environment(self) -> dict[str, str]:
        return {"OPENCRX_PASSWORD": PASSWORD}

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        for person in fake_people(count, seed=seed):
            account = self._new_account(_contact(person))
            for address in _addresses(person):
                self._new_address(account, address)
            self._new_activity(account, INCIDENT, f"Parcel never arrived #{person.number}")
            if person.number % 3 == 0:
                self._new_activity(account, PHONE_CALL, "Called about the refund")

    def records(self, stream: str) -> dict[str, OpenCrxRecord]:
        """Contacts with their addresses (or activities), as the connector reads them, by id."""
        if stream == "activities":
            return {key: {"id": key, **copy.deepcopy(a)} for key, a in self.activities.items()}
        _only_customers(stream)
        return {
            key: {
                "id": key,
                "contact": copy.deepcopy(a),
                "addresses": copy.deepcopy(list(self.addresses[key].values())),
            }
            for key, a in self.accounts.items()
            if a["@type"] == CONTACT
        }

    def add_contact(self, contact: OpenCrxRecord, addresses: list[OpenCrxRecord]) -> str:
        """Store a contact with its addresses as an openCRX user would; returns its id."""
        account = self._new_account({"@type": CONTACT, "externalLink": [], **contact})
        for address in addresses:
            self._new_address(account, address)
        return _id(account)

    def add_invalid(self, stream: str) -> str:
        if stream == "activities":
            account = next(iter(self.accounts.values()))
            activity = self._new_activity(account, INCIDENT, "Imported without dates")
            activity["createdAt"] = activity["scheduledStart"] = None
            return _id(activity)
        _only_customers(stream)
        account = self._new_account({"@type": CONTACT, "lastName": "Broken", "doNotEMail": False})
        self._new_address(
            account, {"@type": EMAIL, "emailAddress": "ann@@example.com", "isMain": True}
        )
        return _id(account)

    def touch(self, stream: str, external_id: str) -> None:
        if stream == "activities":
            activity = self.activities[external_id]
            activity["activityState"] = 20 if activity["activityState"] != 20 else 10
            activity["modifiedAt"] = self._stamp()
            return
        _only_customers(stream)
        account = self.accounts[external_id]
        account["lastName"] = f"{account['lastName']}-Edited"
        account["modifiedAt"] = self._stamp()

    def _new_account(self, fields: OpenCrxRecord) -> OpenCrxRecord:
        key = "".join(self._ids.choices(string.digits + string.ascii_uppercase, k=25))
        stamp = self._stamp()
        account = {
            **fields,
            "@href": f"{ROOT}/account/{key}",
            "identity": f"{_XRI}/account/{key}",
            "createdAt": stamp,
            "modifiedAt": stamp,
        }
        self.accounts[key], self.addresses[key] = account, {}
        return account

    def _new_address(self, account: OpenCrxRecord, fields: OpenCrxRecord) -> OpenCrxRecord:
        key = "".join(self._ids.choices(string.digits + string.ascii_uppercase, k=25))
        stamp = self._stamp()
        address = {
            **fields,
            "@href": f"{account['@href']}/address/{key}",
            "createdAt": stamp,
            "modifiedAt": stamp,
        }
        self.addresses[_id(account)][key] = address
        account["modifiedAt"] = stamp  # an address change is a change of its account
        return address

    def _new_activity(self, account: OpenCrxRecord, kind: str, name: str) -> OpenCrxRecord:
        key = "".join(self._ids.choices(string.digits + string.ascii_uppercase, k=25))
        stamp = self._stamp()
        activity = {
            "@type": kind,
            "@href": f"{ACTIVITIES}/activity/{key}",
            "identity": f"{_XRI.replace('account1', 'activity1')}/activity/{key}",
            "name": name,
            "activityNumber": f"{len(self.activities) + 1:08d}",
            "activityState": 0,
            "reportingContact": {"@href": account["@href"]},
            "scheduledStart": stamp,
            "createdAt": stamp,
            "modifiedAt": stamp,
        }
        self.activities[key] = activity
        return activity

    def _stamp(self) -> str:
        return self.stamp().isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # Routes.

    async def _list(self, request: Request) -> Response:
        return self._listing(request, list(self.accounts.values()))

    async def _list_activities(self, request: Request) -> Response:
        return self._listing(request, list(self.activities.values()))

    def _listing(self, request: Request, objects: list[OpenCrxRecord]) -> Response:
        """A result set of ``objects`` after ``queryType``, ``query``, ``position`` and ``size``."""
        query = request.query_params
        try:
            kind = (query.get("queryType") or "").replace(":", ".")
            rows = _run(
                query.get("query") or "", [o for o in objects if not kind or o["@type"] == kind]
            )
            position = int(query.get("position") or 0)
            size = int(query.get("size") or _DEFAULT_SIZE)
        except ValueError as exc:
            return self.error(400, "BAD_QUERY", str(exc))
        page = rows[position : position + size]
        return _result_set(request, copy.deepcopy(page), position + size < len(rows))

    async def _get(self, request: Request) -> Response:
        try:
            return JSONResponse(copy.deepcopy(self._account(request)))
        except _Failed as exc:
            return self.error(exc.status, "NOT_FOUND", str(exc))

    async def _create(self, request: Request) -> Response:
        body = await request.json()
        if body.get("@type") != CONTACT or not body.get("lastName"):
            return self.error(
                400, "ASSERTION_FAILURE", "A contact needs @type Contact and a lastName"
            )
        return JSONResponse(copy.deepcopy(self._new_account(_attributes(body))))

    async def _update(self, request: Request) -> Response:
        try:
            account = self._account(request)
        except _Failed as exc:
            return self.error(exc.status, "NOT_FOUND", str(exc))
        account.update(_attributes(await request.json()), modifiedAt=self._stamp())
        return JSONResponse(copy.deepcopy(account))

    async def _addresses(self, request: Request) -> Response:
        try:
            account = self._account(request)
        except _Failed as exc:
            return self.error(exc.status, "NOT_FOUND", str(exc))
        rows = copy.deepcopy(list(self.addresses[_id(account)].values()))
        return _result_set(request, rows, False)

    async def _add_address(self, request: Request) -> Response:
        try:
            account = self._account(request)
        except _Failed as exc:
            return self.error(exc.status, "NOT_FOUND", str(exc))
        return JSONResponse(
            copy.deepcopy(self._new_address(account, _attributes(await request.json())))
        )

    async def _put_address(self, request: Request) -> Response:
        try:
            account = self._account(request)
            address = self.addresses[_id(account)].get(request.path_params["address"])
            if address is None:
                raise _Failed(404, "No such address")
        except _Failed as exc:
            return self.error(exc.status, "NOT_FOUND", str(exc))
        address.update(_attributes(await request.json()), modifiedAt=self._stamp())
        account["modifiedAt"] = address["modifiedAt"]
        return JSONResponse(copy.deepcopy(address))

    def _account(self, request: Request) -> OpenCrxRecord:
        account = self.accounts.get(request.path_params["account"])
        if account is None:
            raise _Failed(404, f"No account {request.path_params['account']}")
        return account


def _only_customers(stream: str) -> None:
    if stream != "customers":
        raise ValueError(
            f"the openCRX sandbox has no stream {stream!r}; it has 'customers' and 'activities'"
        )


def _id(obj: OpenCrxRecord) -> str:
    return str(obj["@href"]).rsplit("/", 1)[-1]


def _attributes(body: OpenCrxRecord) -> OpenCrxRecord:
    return {
        k: v for k, v in body.items() if k not in ("@href", "identity", "createdAt", "modifiedAt")
    }


def _result_set(request: Request, objects: list[OpenCrxRecord], more: bool) -> Response:
    return JSONResponse(
        {
            "@type": "org.openmdx.kernel.ResultSet",
            "@href": str(request.url.path),
            "@hasMore": "true" if more else "false",
            "objects": objects,
        }
    )


def _run(query: str, rows: list[OpenCrxRecord]) -> list[OpenCrxRecord]:
    """Filter and sort ``rows`` by openMDX query statements."""
    for statement in (s.strip() for s in query.split(";") if s.strip()):
        match = _STATEMENT.match(statement)
        if match is None:
            raise ValueError(f"Unsupported query statement: {statement}")
        kind, feature, operation, argument = match.groups()
        name = feature[0].lower() + feature[1:]
        if kind == "orderBy":
            if operation not in ("ascending", "descending"):
                raise ValueError(f"orderBy takes ascending() or descending(), not {operation}()")
            rows = sorted(
                rows, key=lambda r: str(r.get(name) or ""), reverse=operation == "descending"
            )
            continue
        if operation not in _COMPARE:
            raise ValueError(f"Unsupported condition: {operation}")
        wanted = _literal(argument)
        rows = [r for r in rows if any(_COMPARE[operation](v, wanted) for v in _values(r, name))]
    return rows


def _literal(text: str) -> Any:
    if text.startswith(":datetime:"):
        return datetime.fromisoformat(text.removeprefix(":datetime:"))
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    raise ValueError(f"Unsupported literal: {text}")


def _values(row: OpenCrxRecord, name: str) -> list[Any]:
    value = row.get(name)
    values = value if isinstance(value, list) else [value]
    return [
        datetime.fromisoformat(v) if name.endswith("At") and v else v
        for v in values
        if v is not None
    ]


def _contact(person: FakePerson) -> OpenCrxRecord:
    return {
        "@type": CONTACT,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "fullName": f"{person.last_name}, {person.first_name}",
        "birthdate": f"{person.birth_date.isoformat()}T00:00:00.000Z",
        "doNotEMail": not person.email_consent,
        "externalLink": [],
    }


def _addresses(person: FakePerson) -> list[OpenCrxRecord]:
    country = pycountry.countries.get(alpha_2=person.country)
    return [
        {"@type": EMAIL, "emailAddress": person.email, "isMain": True, "usage": [400]},
        {"@type": PHONE, "phoneNumberFull": person.phone, "isMain": True, "usage": [200]},
        {
            "@type": POSTAL,
            "postalStreet": [person.street],
            "postalCity": person.city,
            "postalCode": person.postcode,
            "postalCountry": int(country.numeric) if country else 0,
            "isMain": True,
            "usage": [400],
        },
    ]
