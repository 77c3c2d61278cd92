"""A local emulator of Oro's back-office JSON:API for contacts, with OAuth2 client credentials.

No licence-clean Oro material exists (its code and docs are OSL-3.0 or of
unverified licence), so nothing is copied; the behaviour follows Oro's public
documentation (doc.oroinc.com, "API" section: authentication, filters,
errors, and the contact resource's field notes):

- ``POST /oauth2-token`` with a JSON body ``grant_type=client_credentials``,
  ``client_id``, ``client_secret`` answers ``{"token_type": "Bearer",
  "expires_in": 3600, "access_token": ...}``; tokens expire after an hour. A
  wrong client is 401 ``{"error": "invalid_client", ...}`` (OAuth 2.0's words).
- Everything under ``/api/`` needs ``Authorization: Bearer <token>``: missing,
  unknown or expired is 401. Bodies are ``application/vnd.api+json``; a write
  with another ``Content-Type`` is 415.
- Errors are JSON:API error objects ``{"errors": [{"status", "title",
  "detail", "source": {"pointer" | "parameter"}}]}`` with Oro's titles
  ("not blank constraint", "filter constraint", "not found http exception",
  "conflict constraint", "request data constraint", "email constraint").
- ``GET /api/contacts``: ``filter[field]`` and ``filter[field][op]`` with
  eq, neq, lt, lte, gt, gte on ``id``, ``updatedAt``, ``createdAt``,
  ``primaryEmail``; ``sort`` (comma list, ``-`` for descending, default
  ``id``); ``page[number]`` (from 1) and ``page[size]`` (default 10, -1 for
  all); ``include`` of ``addresses``; ``X-Include: totalCount`` is answered
  with an ``X-Include-Total-Count`` header. An unknown filter is 400.
- A contact's ``emails`` and ``phones`` are attributes (collections replaced
  whole on update) beside ``primaryEmail``/``primaryPhone``; addresses are
  ``contactaddresses`` resources with ``country``/``region``/``types``
  relationships. A contact needs one of firstName, lastName, emails, phones.
- ``PATCH /api/contacts/{id}`` changes only the attributes sent; the body's
  id must match the path (409); ``POST`` answers 201; ``DELETE`` 204;
  an unknown id is 404. Times are UTC ISO 8601 with ``Z``, to the second.

Oro documents no rate limit for the API, so the sandbox sets none; its 429s
and 5xx come from injected faults, worded by this sandbox.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.http import Clock
from hub.testing.fake import fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "OroSandbox"]

CLIENT_ID = "oro-sandbox-client"
CLIENT_SECRET = "oro-sandbox-client-secret"
JSON_API = "application/vnd.api+json"
TOKEN_LIFETIME = 3600
_WRITABLE = frozenset(
    {"namePrefix", "firstName", "middleName", "lastName", "nameSuffix", "gender", "birthday",
     "description", "jobTitle", "primaryEmail", "emails", "primaryPhone", "phones"}
)  # fmt: skip
_FILTERS = frozenset({"id", "updatedAt", "createdAt", "primaryEmail"})
_OPERATORS = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}
_SOURCES = ("website", "call", "email", "other")


class _Refused(Exception):
    def __init__(self, status: int, title: str, detail: str, **source: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.source = status, title, detail, source


class OroSandbox(Sandbox):
    """Contacts and their addresses in memory behind Oro's API paths, OAuth and errors."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        super().__init__(clock=clock)
        self.contacts: dict[int, dict[str, Any]] = {}
        self.addresses: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        """Access token -> when it expires (the sandbox clock's monotonic time)."""
        self._contact_ids = itertools.count(1)
        self._address_ids = itertools.count(1)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth2-token", self._token, methods=["POST"]),
            Route("/api/contacts", self._list, methods=["GET"]),
            Route("/api/contacts", self._create, methods=["POST"]),
            Route("/api/contacts/{contact_id}", self._get, methods=["GET"]),
            Route("/api/contacts/{contact_id}", self._update, methods=["PATCH"]),
            Route("/api/contacts/{contact_id}", self._delete, methods=["DELETE"]),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        title = {"not_found": "resource not accessible exception"}.get(code, code.replace("_", " "))
        return self._refusal(_Refused(status, title, message), headers)

    def expired_token(self) -> Response:
        return self._refusal(_Refused(401, "authentication exception", "The access token expired."))

    def outage(self, status: int) -> Response:
        return self._refusal(_Refused(status, "runtime exception", "Internal server error."))

    def authenticate(self, request: Request) -> Response | None:
        if request.url.path == "/oauth2-token":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expires is not None and self.clock.monotonic() < expires:
            return None
        detail = "The access token is missing, unknown or expired."
        return self._refusal(_Refused(401, "authentication exception", detail))

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "client_id": CLIENT_ID,
            "client_secret": "${ORO_SANDBOX_CLIENT_SECRET}",
        }

    def environment(self) -> dict[str, str]:
        return {"ORO_SANDBOX_CLIENT_SECRET": CLIENT_SECRET}

    def _refusal(self, refused: _Refused, headers: Mapping[str, str] | None = None) -> Response:
        error: dict[str, Any] = {
            "status": str(refused.status),
            "title": refused.title,
            "detail": refused.detail,
        }
        if refused.source:
            error["source"] = refused.source
        return _document({"errors": [error]}, refused.status, headers)

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        for person in fake_people(count, seed=seed):
            stamp = _iso(person.created_at)
            contact = self._add(
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
            address_id = next(self._address_ids)
            self.addresses[address_id] = {
                "type": "contactaddresses",
                "id": str(address_id),
                "attributes": {
                    "street": person.street,
                    "city": person.city,
                    "postalCode": person.postcode,
                    "primary": True,
                    "createdAt": stamp,
                    "updatedAt": stamp,
                },
                "relationships": {
                    "country": {"data": {"type": "countries", "id": person.country}},
                    "region": {"data": None},
                    "types": {"data": [{"type": "addresstypes", "id": "billing"}]},
                },
            }
            contact["relationships"]["addresses"]["data"].append(
                {"type": "contactaddresses", "id": str(address_id)}
            )

    def records(self, stream: str) -> dict[str, dict[str, Any]]:
        """Contacts by id, each with its included addresses, as the connector receives them."""
        _only_customers(stream)
        return {str(key): self._with_included(contact) for key, contact in self.contacts.items()}

    def add_invalid(self, stream: str) -> str:
        _only_customers(stream)
        contact = self._add(
            {"lastName": "Legacy", "primaryEmail": "ann@@example.com",
             "emails": [{"email": "ann@@example.com"}]},
            _iso(self.stamp()),
        )  # fmt: skip
        return str(contact["id"])

    def touch(self, stream: str, external_id: str) -> None:
        _only_customers(stream)
        attributes = self.contacts[int(external_id)]["attributes"]
        attributes["lastName"] = f"{attributes.get('lastName') or ''}-Edited"
        attributes["updatedAt"] = _iso(self.stamp())

    def _add(
        self, values: dict[str, Any], stamp: str, *, source: str | None = None
    ) -> dict[str, Any]:
        contact_id = next(self._contact_ids)
        contact = {
            "type": "contacts",
            "id": str(contact_id),
            "attributes": {name: values.get(name) for name in sorted(_WRITABLE)}
            | {"emails": values.get("emails") or [], "phones": values.get("phones") or []}
            | {"createdAt": stamp, "updatedAt": stamp},
            "relationships": {
                "source": {"data": {"type": "contactsources", "id": source} if source else None},
                "owner": {"data": {"type": "users", "id": "1"}},
                "addresses": {"data": []},
            },
        }
        self.contacts[contact_id] = contact
        return contact

    def _with_included(self, contact: dict[str, Any]) -> dict[str, Any]:
        ids = [int(a["id"]) for a in contact["relationships"]["addresses"]["data"]]
        return copy.deepcopy(contact) | {
            "included": [copy.deepcopy(self.addresses[i]) for i in ids]
        }

    # Routes.

    async def _token(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = dict(await request.form())
        if body.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")
        if (body.get("client_id"), body.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock.monotonic() + TOKEN_LIFETIME
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": TOKEN_LIFETIME, "access_token": token}
        )

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        try:
            rows = [c for c in self.contacts.values() if _matches(c, _filters(query))]
            rows.sort(key=lambda c: int(c["id"]))
            for name, descending in reversed(_sort(query.get("sort", "id"))):
                rows.sort(key=_by(name), reverse=descending)
            size = _number(query.get("page[size]", "10"), "page[size]", minimum=-1)
            page = _number(query.get("page[number]", "1"), "page[number]", minimum=1)
            included = _include(query.get("include"))
        except _Refused as exc:
            return self._refusal(exc)
        shown = rows if size == -1 else rows[(page - 1) * size : page * size]
        document: dict[str, Any] = {"data": [copy.deepcopy(c) for c in shown]}
        if included:
            document["included"] = [
                resource for c in shown for resource in self._with_included(c)["included"]
            ]
        headers = {}
        if "totalCount" in request.headers.get("X-Include", ""):
            headers["X-Include-Total-Count"] = str(len(rows))
        return _document(document, 200, headers)

    async def _get(self, request: Request) -> Response:
        try:
            return _document({"data": copy.deepcopy(self._contact(request))})
        except _Refused as exc:
            return self._refusal(exc)

    async def _create(self, request: Request) -> Response:
        try:
            attributes = _attributes(await _data(request, None))
            _required(attributes)
        except _Refused as exc:
            return self._refusal(exc)
        contact = self._add(attributes, _iso(self.stamp()))
        return _document({"data": copy.deepcopy(contact)}, 201)

    async def _update(self, request: Request) -> Response:
        try:
            contact = self._contact(request)
            attributes = _attributes(await _data(request, contact["id"]))
            merged = contact["attributes"] | attributes
            _required(merged)
        except _Refused as exc:
            return self._refusal(exc)
        contact["attributes"] = merged | {"updatedAt": _iso(self.stamp())}
        return _document({"data": copy.deepcopy(contact)})

    async def _delete(self, request: Request) -> Response:
        try:
            contact = self._contact(request)
        except _Refused as exc:
            return self._refusal(exc)
        del self.contacts[int(contact["id"])]
        return Response(status_code=204)

    def _contact(self, request: Request) -> dict[str, Any]:
        raw = request.path_params["contact_id"]
        contact = self.contacts.get(int(raw)) if raw.isdigit() else None
        if contact is None:
            raise _Refused(
                404,
                "not found http exception",
                "An entity with the requested identifier does not exist.",
            )
        return contact


def _oauth_error(status: int, code: str, description: str) -> Response:
    """OAuth 2.0's error body (RFC 6749, section 5.2), as the token endpoint answers."""
    return JSONResponse({"error": code, "error_description": description}, status)


def _document(
    body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, dict(headers or {}), media_type=JSON_API)


def _only_customers(stream: str) -> None:
    if stream != "customers":
        raise ValueError(f"the Oro sandbox has no stream {stream!r}; it has 'customers'")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(contact: dict[str, Any], name: str) -> Any:
    if name == "id":
        return int(contact["id"])
    return contact["attributes"].get(name) or ""


def _by(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda contact: _value(contact, name)


def _filters(query: Mapping[str, str]) -> list[tuple[str, str, str]]:
    found = []
    for key, value in query.items():
        if not key.startswith("filter["):
            continue
        parts = key[len("filter[") : -1].split("][")
        name, operator = parts[0], parts[1] if len(parts) > 1 else "eq"
        if name not in _FILTERS or operator not in _OPERATORS or not key.endswith("]"):
            raise _Refused(
                400, "filter constraint", f'Filter "{key}" is not supported.', parameter=key
            )
        if name == "id" and not all(v.isdigit() for v in value.split(",")):
            raise _Refused(
                400,
                "unexpected value exception",
                f'Expected integer value. Given "{value}".',
                parameter=key,
            )
        if name in ("updatedAt", "createdAt"):
            try:
                value = _iso(datetime.fromisoformat(value))
            except ValueError:
                raise _Refused(
                    400,
                    "unexpected value exception",
                    f'Expected datetime value. Given "{value}".',
                    parameter=key,
                ) from None
        found.append((name, operator, value))
    return found


def _matches(contact: dict[str, Any], filters: list[tuple[str, str, str]]) -> bool:
    """Every filter holds; ``id`` takes a comma list for eq, an e-mail compares caseless."""
    for name, operator, wanted in filters:
        have = _value(contact, name)
        if name == "id":
            ids = [int(v) for v in wanted.split(",")]
            held = have in ids if operator == "eq" else _OPERATORS[operator](have, ids[0])
        elif name == "primaryEmail":
            held = _OPERATORS[operator](str(have).casefold(), wanted.casefold())
        else:
            held = _OPERATORS[operator](have, wanted)
        if not held:
            return False
    return True


def _sort(text: str) -> list[tuple[str, bool]]:
    fields = [(part.lstrip("-"), part.startswith("-")) for part in text.split(",") if part]
    unknown = [name for name, _ in fields if name not in _FILTERS]
    if unknown:
        raise _Refused(
            400,
            "sort constraint",
            f'Sorting by "{unknown[0]}" field is not supported.',
            parameter="sort",
        )
    return fields


def _number(text: str, name: str, *, minimum: int) -> int:
    try:
        number = int(text)
    except ValueError:
        number = minimum - 1
    if number < minimum or number == 0:
        raise _Refused(
            400,
            "unexpected value exception",
            f'Expected integer value. Given "{text}".',
            parameter=name,
        )
    return number


def _include(text: str | None) -> bool:
    names = [name for name in (text or "").split(",") if name]
    unknown = [name for name in names if name != "addresses"]
    if unknown:
        raise _Refused(
            400,
            "request data constraint",
            f'The relationship "{unknown[0]}" does not exist.',
            parameter="include",
        )
    return bool(names)


async def _data(request: Request, contact_id: str | None) -> dict[str, Any]:
    if request.headers.get("Content-Type", "").split(";")[0] != JSON_API:
        raise _Refused(415, "unsupported media type", f'The "Content-Type" must be "{JSON_API}".')
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise _Refused(
            400, "request data constraint", "The request data should not be empty."
        ) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != "contacts":
        raise _Refused(
            409,
            "conflict constraint",
            'The "type" property should be "contacts".',
            pointer="/data/type",
        )
    if contact_id is not None and str(data.get("id")) != contact_id:
        raise _Refused(
            409,
            "conflict constraint",
            "The 'id' property of the primary data object should match 'id' parameter of the "
            "query string.",
            pointer="/data/id",
        )
    return data


def _attributes(data: dict[str, Any]) -> dict[str, Any]:
    attributes = dict(data.get("attributes") or {})
    unknown = sorted(set(attributes) - _WRITABLE)
    if unknown:
        raise _Refused(
            400,
            "extra fields constraint",
            "This form should not contain extra fields.",
            pointer=f"/data/attributes/{unknown[0]}",
        )
    emails = attributes.get("emails") or []
    for index, item in enumerate(emails):
        if "@" not in str((item or {}).get("email")) or str(item["email"]).count("@") != 1:
            raise _Refused(
                400,
                "email constraint",
                "This value is not a valid email address.",
                pointer=f"/data/attributes/emails/{index}/email",
            )
    primary = attributes.get("primaryEmail")
    if primary and "emails" in attributes and primary not in {e["email"] for e in emails}:
        raise _Refused(
            400,
            "primary item constraint",
            "One of the emails must be primary.",
            pointer="/data/attributes/primaryEmail",
        )
    return attributes


def _required(attributes: dict[str, Any]) -> None:
    if not any(attributes.get(name) for name in ("firstName", "lastName", "emails", "phones")):
        raise _Refused(
            400,
            "not blank constraint",
            "One of the following fields must be defined: firstName, lastName, emails, phones.",
            pointer="/data/attributes/firstName",
        )
