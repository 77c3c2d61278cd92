"""A local emulator of Oro's back-office JSON:API, with OAuth2 client credentials.

No licence-clean Oro material exists (its code and docs are OSL-3.0 or of
unverified licence), so nothing is copied; the behaviour follows Oro's public
documentation (doc.oroinc.com, "API" section: authentication, filters,
errors, and the field notes of the contact, contact address, account,
opportunity and Magento customer resources):

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
- ``GET /api/{contacts,accounts,opportunities,magentocustomers,
  contactaddresses}``: ``filter[field]`` and ``filter[field][op]`` with eq,
  neq, lt, lte, gt, gte on the fields each kind lists in
  :data:`~connectors.orocrm.sandbox_query.KINDS` (``id``, ``updatedAt``,
  ``createdAt``, e-mails, and to-one relationships such as an address's
  ``owner``); ``sort`` (comma list, ``-`` for descending, default ``id``);
  ``page[number]`` (from 1) and ``page[size]`` (default 10, -1 for all);
  ``include`` of the kind's relationships (a contact's ``addresses`` and
  ``accounts``, an account's ``contacts``, an opportunity's ``contact`` and
  ``account``); ``X-Include: totalCount`` is answered with an
  ``X-Include-Total-Count`` header. An unknown filter is 400.
- A contact's ``emails`` and ``phones`` are attributes (collections replaced
  whole on update) beside ``primaryEmail``/``primaryPhone``; a contact needs
  one of firstName, lastName, emails, phones. Its addresses are
  ``contactaddresses`` resources of their own (``owner`` the contact,
  ``country``/``region``/``types`` relationships): created by POST with an
  owner and a country, changed by PATCH (the owner is then read-only),
  removed by DELETE. Saving an address stamps its contact's ``updatedAt``
  too, as Oro's contact form does (an assumption: the docs do not say).
- Accounts hold ``contacts`` (to-many; a contact lists its ``accounts``);
  opportunities name a ``contact`` and an ``account``, a ``status``
  (``in_progress``, ``won``, ``lost``), ``budgetAmountValue``/``Currency``,
  ``closeRevenueValue``/``Currency``, ``probability`` and ``closeDate``;
  Magento customers (``magentocustomers``, synced by Oro's Magento
  integration) carry ``email``, names, ``birthday``, ``vat``, ``originId``
  (the id in Magento) and their ``contact``/``account``.
- ``PATCH`` changes only what is sent; the body's id must match the path
  (409); ``POST`` answers 201; ``DELETE`` 204; an unknown id is 404. Times are
  UTC ISO 8601 with ``Z``, to the second.

Oro documents no rate limit for the API, so the sandbox sets none; its 429s
and 5xx come from injected faults, worded by this sandbox.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.orocrm.sandbox_data import SandboxData
from connectors.orocrm.sandbox_query import (
    JSON_API,
    KINDS,
    Refused,
    document,
    filters_of,
    include_of,
    iso,
    matches,
    number_of,
    related,
    sorted_by,
)
from connectors.orocrm.sandbox_writes import address_parts, contact_attributes, data_of, required
from hub.http import Clock

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "JSON_API", "OroSandbox"]

CLIENT_ID = "oro-sandbox-client"
CLIENT_SECRET = "oro-sandbox-client-secret"
TOKEN_LIFETIME = 3600
_CREATES = frozenset({"contacts", "contactaddresses"})
_DELETES = frozenset({"contacts", "contactaddresses", "magentocustomers"})


class OroSandbox(SandboxData):
    """Contacts, addresses, accounts, opportunities and Magento customers behind Oro's API."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.store: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._ids = {kind: itertools.count(1) for kind in KINDS}
        self.tokens: dict[str, float] = {}
        """Access token -> when it expires (the sandbox clock's monotonic time)."""
        super().__init__(clock=clock)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth2-token", self._token, methods=["POST"]),
            Route("/api/{kind}", self._list, methods=["GET"]),
            Route("/api/{kind}", self._create, methods=["POST"]),
            Route("/api/{kind}/{resource_id}", self._get, methods=["GET"]),
            Route("/api/{kind}/{resource_id}", self._update, methods=["PATCH"]),
            Route("/api/{kind}/{resource_id}", self._delete, methods=["DELETE"]),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        title = {"not_found": "resource not accessible exception"}.get(code, code.replace("_", " "))
        return self._refusal(Refused(status, title, message), headers)

    def expired_token(self) -> Response:
        return self._refusal(Refused(401, "authentication exception", "The access token expired."))

    def outage(self, status: int) -> Response:
        return self._refusal(Refused(status, "runtime exception", "Internal server error."))

    def authenticate(self, request: Request) -> Response | None:
        if request.url.path == "/oauth2-token":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expires is not None and self.clock.monotonic() < expires:
            return None
        detail = "The access token is missing, unknown or expired."
        return self._refusal(Refused(401, "authentication exception", detail))

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "client_id": CLIENT_ID,
            "client_secret": "${ORO_SANDBOX_CLIENT_SECRET}",
        }

    def environment(self) -> dict[str, str]:
        return {"ORO_SANDBOX_CLIENT_SECRET": CLIENT_SECRET}

    def _refusal(self, refused: Refused, headers: Mapping[str, str] | None = None) -> Response:
        error: dict[str, Any] = {
            "status": str(refused.status),
            "title": refused.title,
            "detail": refused.detail,
        }
        if refused.source:
            error["source"] = refused.source
        return document({"errors": [error]}, refused.status, headers)

    def included(self, resources: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
        """The resources ``names`` relate to, once each, in the order first met."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for resource in resources:
            for name in names:
                for item in related(resource, name):
                    held = self.store.get(item["type"], {}).get(int(item["id"]))
                    if held is not None:
                        found.setdefault((item["type"], item["id"]), copy.deepcopy(held))
        return list(found.values())

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
            name = self._kind(request)
            kind = KINDS[name]
            filters = filters_of(query, kind)
            rows = [r for r in self.store[name].values() if matches(r, filters)]
            rows = sorted_by(rows, query.get("sort", "id"), kind)
            size = number_of(query.get("page[size]", "10"), "page[size]", minimum=-1)
            page = number_of(query.get("page[number]", "1"), "page[number]", minimum=1)
            includes = include_of(query.get("include"), kind)
        except Refused as exc:
            return self._refusal(exc)
        shown = rows if size == -1 else rows[(page - 1) * size : page * size]
        body: dict[str, Any] = {"data": [copy.deepcopy(r) for r in shown]}
        if includes:
            body["included"] = self.included(shown, includes)
        headers = {}
        if "totalCount" in request.headers.get("X-Include", ""):
            headers["X-Include-Total-Count"] = str(len(rows))
        return document(body, 200, headers)

    async def _get(self, request: Request) -> Response:
        try:
            resource = self._resource(request)
            includes = include_of(request.query_params.get("include"), KINDS[resource["type"]])
        except Refused as exc:
            return self._refusal(exc)
        body: dict[str, Any] = {"data": copy.deepcopy(resource)}
        if includes:
            body["included"] = self.included([resource], includes)
        return document(body)

    async def _create(self, request: Request) -> Response:
        try:
            name = self._kind(request, allowed=_CREATES)
            data = await data_of(request, name, None)
            if name == "contacts":
                attributes = contact_attributes(data)
                required(attributes)
                created = self.add_contact(attributes, iso(self.stamp()))
            else:
                created = self._create_address(data)
        except Refused as exc:
            return self._refusal(exc)
        return document({"data": copy.deepcopy(created)}, 201)

    async def _update(self, request: Request) -> Response:
        try:
            resource = self._resource(request, allowed=_CREATES)
            data = await data_of(request, resource["type"], resource["id"])
            if resource["type"] == "contacts":
                merged = resource["attributes"] | contact_attributes(data)
                required(merged)
                resource["attributes"] = merged | {"updatedAt": iso(self.stamp())}
            else:
                self._update_address(resource, data)
        except Refused as exc:
            return self._refusal(exc)
        return document({"data": copy.deepcopy(resource)})

    async def _delete(self, request: Request) -> Response:
        try:
            resource = self._resource(request, allowed=_DELETES)
        except Refused as exc:
            return self._refusal(exc)
        self.remove(resource["type"], int(resource["id"]))
        return Response(status_code=204)

    def _kind(self, request: Request, allowed: frozenset[str] | None = None) -> str:
        name = str(request.path_params["kind"])
        if name not in KINDS:
            raise Refused(404, "not found http exception", f'The "{name}" entity is unknown.')
        if allowed is not None and name not in allowed:
            raise Refused(405, "action not allowed exception", "The action is not allowed.")
        return name

    def _resource(self, request: Request, allowed: frozenset[str] | None = None) -> dict[str, Any]:
        name = self._kind(request, allowed)
        raw = str(request.path_params["resource_id"])
        resource = self.store[name].get(int(raw)) if raw.isdigit() else None
        if resource is None:
            raise Refused(
                404,
                "not found http exception",
                "An entity with the requested identifier does not exist.",
            )
        return resource

    def _create_address(self, data: dict[str, Any]) -> dict[str, Any]:
        attributes, relationships = address_parts(data, creating=True)
        owner = self.contacts.get(int(relationships["owner"]["data"]["id"]))
        if owner is None:
            raise Refused(
                404,
                "entity not found constraint",
                "The entity does not exist.",
                pointer="/data/relationships/owner/data",
            )
        return self.add_address(owner, attributes, relationships, iso(self.stamp()))

    def _update_address(self, address: dict[str, Any], data: dict[str, Any]) -> None:
        attributes, relationships = address_parts(data, creating=False)
        stamp = iso(self.stamp())
        address["attributes"] |= attributes | {"updatedAt": stamp}
        address["relationships"] |= relationships
        if attributes.get("primary"):
            self.make_primary(address)
        owner = self.contacts.get(int(related(address, "owner")[0]["id"]))
        if owner is not None:
            owner["attributes"]["updatedAt"] = stamp


def _oauth_error(status: int, code: str, description: str) -> Response:
    """OAuth 2.0's error body (RFC 6749, section 5.2), as the token endpoint answers."""
    return JSONResponse({"error": code, "error_description": description}, status)
