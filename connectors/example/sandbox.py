"""A local emulator of the example API: the contract the connector is written against.

- ``Authorization: Bearer <token>``. A missing or unknown token is 401
  ``invalid_token``, an expired one 401 ``token_expired``, both with a
  ``WWW-Authenticate`` header (RFC 6750).
- Errors are ``{"error": {"code": ..., "message": ...}}``.
- 100 requests per 10-second window. Every answer carries ``X-RateLimit-Limit``,
  ``-Remaining`` and ``-Reset`` (seconds); over the limit, 429 ``rate_limited``
  with ``Retry-After`` (seconds).
- ``GET /api/v1/contacts?updated_since=&page_token=&limit=`` lists contacts
  changed at or after ``updated_since`` (RFC 3339), oldest change first, ties by
  id; ``limit`` is 1-100 (default 50). The body is ``{"data": [...],
  "next_page_token": ...}``, the token null after the last page. A token
  carries its filter: the next request sends only ``page_token`` and ``limit``.
- ``POST /api/v1/contacts`` upserts by e-mail (201 created, 200 updated);
  ``PUT /api/v1/contacts/{id}`` replaces (404 unknown, 409 e-mail taken);
  ``DELETE /api/v1/contacts/{id}`` answers 204, also when the contact is gone.
- Timestamps are UTC, in milliseconds, with a ``Z``. A write always gets an
  ``updated_at`` later than any before it.
- Webhooks: every write through the API (and :meth:`ExampleSandbox.touch`) is an
  event ``{"id": "evt_...", "type": "contact.created|updated|deleted",
  "occurred_at": ..., "data": contact}``, POSTed as JSON with
  ``X-Example-Event-Id`` and ``X-Example-Signature: sha256=<hex HMAC-SHA256 of
  the raw body, keyed with the webhook secret>``. An event not answered 2xx is
  sent again, with the same id, on the next delivery round. An endpoint is
  checked with ``GET ?challenge=R`` signed over ``R``; it must answer ``R``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import itertools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.example.mapping import Contact
from connectors.example.webhooks import sign
from hub.http import Clock
from hub.testing.fake import fake_people
from hub.testing.limits import FixedWindow
from hub.testing.sandbox import Sandbox

__all__ = ["TOKEN", "WEBHOOK_SECRET", "ExampleSandbox"]

TOKEN = "example-sandbox-token"
WEBHOOK_SECRET = "example-sandbox-webhook-secret"
PATH = "/api/v1/contacts"
WRITABLE = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "phone",
        "birthday",
        "language",
        "address",
        "marketing_opt_in",
        "tags",
    }
)
_LIMITS = range(1, 101)
_DEFAULT_LIMIT = 50


class _Invalid(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class _Contacts(dict[str, Contact]):
    """Contacts by id, with the list order (updated_at, id) kept for paging.

    Listing bisects into the order instead of sorting every contact on every
    request, so a benchmark's 100,000 contacts page in O(log n). Adding or
    removing a contact drops the order; code that edits a contact in place
    calls :meth:`changed`.
    """

    _order: list[tuple[datetime, str]] | None = None

    def __setitem__(self, key: str, value: Contact) -> None:
        super().__setitem__(key, value)
        self._order = None

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._order = None

    def pop(self, key: str, default: Any = None) -> Any:
        self._order = None
        return super().pop(key, default)

    def changed(self) -> None:
        self._order = None

    def ordered(self) -> list[tuple[datetime, str]]:
        if self._order is None:
            self._order = sorted(_position(contact) for contact in self.values())
        return self._order


class ExampleSandbox(Sandbox):
    """Contacts in memory behind the example API's paths, auth, paging and limits."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        super().__init__(clock=clock)
        self.contacts = _Contacts()
        self.tokens = {TOKEN}
        self.limit = FixedWindow(100, 10, clock=self.clock)
        self._numbers = itertools.count(1)
        self._event_numbers = itertools.count(1)
        self.webhook_secret = WEBHOOK_SECRET
        self.events: list[dict[str, Any]] = []
        """Events not yet acknowledged by the subscriber, oldest first."""

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PATH, self._list, methods=["GET"]),
            Route(PATH, self._upsert, methods=["POST"]),
            Route(PATH + "/{contact_id}", self._get, methods=["GET"]),
            Route(PATH + "/{contact_id}", self._replace, methods=["PUT"]),
            Route(PATH + "/{contact_id}", self._delete, methods=["DELETE"]),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        extra = dict(headers or {})
        if status == 401:
            extra["WWW-Authenticate"] = (
                f'Bearer realm="example", error="invalid_token", error_description="{message}"'
            )
        return JSONResponse({"error": {"code": code, "message": message}}, status, extra)

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self.tokens:
            return None
        return self.error(401, "invalid_token", "The access token is missing or not valid")

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "api_token": "${EXAMPLE_SANDBOX_TOKEN}",
            "webhook_secret": "${EXAMPLE_WEBHOOK_SECRET}",
        }

    def environment(self) -> dict[str, str]:
        return {"EXAMPLE_SANDBOX_TOKEN": TOKEN, "EXAMPLE_WEBHOOK_SECRET": WEBHOOK_SECRET}

    # Webhooks, as the API sends them.

    def signed(self, body: bytes, *, event_id: str) -> dict[str, str]:
        """The headers a delivery of ``body`` carries."""
        return {
            "Content-Type": "application/json",
            "X-Example-Event-Id": event_id,
            "X-Example-Signature": sign(self.webhook_secret, body),
        }

    def delivery(self, event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        body = json.dumps(event).encode()
        return self.signed(body, event_id=event["id"]), body

    async def deliver(self, client: httpx.AsyncClient, url: str) -> int:
        """POST every pending event to ``url``; those not acknowledged stay for the next round."""
        acknowledged = 0
        for event in list(self.events):
            headers, body = self.delivery(event)
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.TransportError:
                continue
            if response.is_success:
                self.events.remove(event)
                acknowledged += 1
        return acknowledged

    def _emit(self, kind: str, contact: Contact) -> None:
        self.events.append(
            {
                "id": f"evt_{next(self._event_numbers):08d}",
                "type": f"contact.{kind}",
                "occurred_at": _iso(self.now()),
                "data": copy.deepcopy(contact),
            }
        )

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        for person in fake_people(count, seed=seed):
            created = _iso(person.created_at)
            self._add(
                {
                    "email": person.email,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "phone": person.phone,
                    "birthday": person.birth_date.isoformat(),
                    "language": person.language,
                    "address": {
                        "street": person.street,
                        "city": person.city,
                        "postal_code": person.postcode,
                        "country": person.country,
                    },
                    "marketing_opt_in": person.email_consent,
                    "tags": ["vip"] if person.number % 7 == 0 else [],
                },
                created=created,
                updated=created,
            )

    def records(self, stream: str) -> dict[str, Contact]:
        """The contacts as the API serves them, by id (``stream`` is ``customers``)."""
        _only_customers(stream)
        return copy.deepcopy(self.contacts)

    def add_invalid(self, stream: str) -> str:
        """Store a contact whose e-mail no mapping can accept, as legacy data has."""
        _only_customers(stream)
        stamp = _iso(self.stamp())
        contact = {key: None for key in WRITABLE} | {"email": "ann@@example.com", "tags": []}
        return str(self._add(contact, created=stamp, updated=stamp)["id"])

    def touch(self, stream: str, external_id: str) -> None:
        """Edit a contact as a user of the CRM would: its last name changes."""
        _only_customers(stream)
        contact = self.contacts[external_id]
        contact["last_name"] = f"{contact['last_name'] or ''}-Edited"
        contact["updated_at"] = _iso(self.stamp())
        self.contacts.changed()
        self._emit("updated", contact)

    def _add(self, fields: Contact, *, created: str, updated: str) -> Contact:
        contact_id = f"ct_{next(self._numbers):06d}"
        contact = {"id": contact_id, **fields, "created_at": created, "updated_at": updated}
        self.contacts[contact_id] = contact
        return contact

    # Routes.

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        try:
            limit = _limit(query.get("limit"))
            if "page_token" in query:
                since, after = _read_token(query["page_token"])
            else:
                since, after = _since(query.get("updated_since")), None
        except _Invalid as exc:
            return self.error(exc.status, exc.code, str(exc))
        order = self.contacts.ordered()
        start = bisect.bisect_left(order, (since, "")) if since is not None else 0
        if after is not None:
            start = max(start, bisect.bisect_right(order, after))
        page = [self.contacts[contact_id] for _, contact_id in order[start : start + limit]]
        more = start + limit < len(order)
        token = _make_token(since, _position(page[-1])) if more else None
        return JSONResponse({"data": page, "next_page_token": token})

    async def _get(self, request: Request) -> Response:
        contact = self.contacts.get(request.path_params["contact_id"])
        if contact is None:
            return self.error(404, "not_found", "No contact with this id")
        return JSONResponse(contact)

    async def _upsert(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except _Invalid as exc:
            return self.error(exc.status, exc.code, str(exc))
        existing = self._by_email(body["email"])
        stamp = _iso(self.stamp())
        if existing is None:
            created = self._add(_replacing(body), created=stamp, updated=stamp)
            self._emit("created", created)
            return JSONResponse(created, 201)
        existing.update(_replacing(body), updated_at=stamp)
        self.contacts.changed()
        self._emit("updated", existing)
        return JSONResponse(existing)

    async def _replace(self, request: Request) -> Response:
        contact = self.contacts.get(request.path_params["contact_id"])
        if contact is None:
            return self.error(404, "not_found", "No contact with this id")
        try:
            body = await _body(request)
        except _Invalid as exc:
            return self.error(exc.status, exc.code, str(exc))
        holder = self._by_email(body["email"])
        if holder is not None and holder is not contact:
            return self.error(409, "email_taken", f"Another contact has the e-mail {body['email']}")
        contact.update(_replacing(body), updated_at=_iso(self.stamp()))
        self.contacts.changed()
        self._emit("updated", contact)
        return JSONResponse(contact)

    async def _delete(self, request: Request) -> Response:
        gone = self.contacts.pop(request.path_params["contact_id"], None)
        if gone is not None:
            self._emit("deleted", gone)
        return Response(status_code=204)

    def _by_email(self, email: str) -> Contact | None:
        wanted = email.casefold()
        return next(
            (c for c in self.contacts.values() if (c.get("email") or "").casefold() == wanted),
            None,
        )


def _only_customers(stream: str) -> None:
    if stream != "customers":
        raise ValueError(f"the example API has no stream {stream!r}; it has 'customers'")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _at(contact: Contact) -> datetime:
    return datetime.fromisoformat(contact["updated_at"])


def _position(contact: Contact) -> tuple[datetime, str]:
    return _at(contact), str(contact["id"])


def _limit(value: str | None) -> int:
    if value is None:
        return _DEFAULT_LIMIT
    if not value.isdigit() or int(value) not in _LIMITS:
        raise _Invalid(400, "invalid_parameter", "limit must be a whole number from 1 to 100")
    return int(value)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Invalid(
            400, "invalid_parameter", "updated_since must be an RFC 3339 time with a zone"
        )
    return moment


def _make_token(since: datetime | None, after: tuple[datetime, str]) -> str:
    state = [since.isoformat() if since else None, after[0].isoformat(), after[1]]
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _read_token(token: str) -> tuple[datetime | None, tuple[datetime, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        since, at, contact_id = json.loads(base64.urlsafe_b64decode(padded))
        return (
            datetime.fromisoformat(since) if since else None,
            (datetime.fromisoformat(at), str(contact_id)),
        )
    except (binascii.Error, ValueError, TypeError):
        raise _Invalid(
            400, "invalid_page_token", "page_token is not a token this API issued"
        ) from None


async def _body(request: Request) -> Contact:
    try:
        body = await request.json()
    except ValueError:
        raise _Invalid(400, "invalid_json", "The body is not JSON") from None
    if not isinstance(body, dict):
        raise _Invalid(422, "validation_failed", "The body must be a contact object")
    unknown = sorted(set(body) - set(WRITABLE))
    if unknown:
        raise _Invalid(422, "validation_failed", f"Unknown field {unknown[0]!r}")
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _Invalid(422, "validation_failed", "email is required and must be an e-mail address")
    return body


def _replacing(body: Contact) -> Contact:
    """Every writable field from ``body``; a field left out is cleared, as PUT replaces."""
    return {key: body.get(key) for key in WRITABLE} | {"tags": body.get("tags") or []}
