"""A local emulator of SugarCRM's REST API (v10/v11) for Contacts, Leads, Accounts and Cases.

It follows SugarCRM's own Apache-2.0 PHP client (tests/fixtures/vendor/sugarcrm/:
the endpoint list, the token request and refresh fields, the ``OAuth-Token``
header, the ``error``/``error_message`` body) and, where that material is
silent, Sugar's public REST documentation (filter bodies, ``next_offset``,
``sync_key`` upserts, the ``email`` array):

- ``POST /rest/{version}/oauth2/token`` takes a password grant (``username``,
  ``password``, ``client_id``, ``client_secret``, ``platform``) or a refresh
  grant, as JSON or a form, and answers ``access_token``, ``expires_in``,
  ``refresh_token``, ``refresh_expires_in``, ``download_token``. Tokens expire
  on the sandbox clock (``token_lifetime``, 3600 s by default); a refresh
  rotates the refresh token; a new password login on a platform ends that
  user's earlier session there, as Sugar does.
- Every other call needs ``OAuth-Token``: missing, 401 ``need_login``; unknown
  or expired, 401 ``invalid_grant``. Errors are ``{"error", "error_message"}``;
  throttling is 429 ``too_many_requests`` with ``Retry-After``; an unknown
  record is 404 ``not_found``; a bad filter 422 ``invalid_parameter``.
- ``POST /{module}/filter`` takes ``filter`` (a list ANDed; ``$or``/``$and``;
  ``$equals``, ``$not_equals``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$in``,
  ``$not_in``, ``$starts``, ``$contains``, ``$is_null``, ``$not_null``; a bare
  value means ``$equals``; ``email_addresses.email_address`` matches any
  address), ``order_by`` (``field:ASC,field:DESC``), ``max_num`` (default 20,
  at most 1000) and ``offset``; it answers ``{"next_offset", "records"}``,
  ``next_offset`` -1 after the last page.
- ``POST /{module}`` creates, ``PUT /{module}/{id}`` updates the fields sent,
  ``PATCH /{module}/sync_key/{key}`` updates the record with that ``sync_key``
  or creates one with it, ``DELETE /{module}/{id}`` answers ``{"id"}``. An
  ``email`` array sent replaces the record's addresses; an address's
  ``opt_out`` and ``invalid_email`` flags belong to the address, so a write
  that leaves them out keeps them.
- A contact's ``account_id`` links it to an Account; its ``account_name`` is a
  related field, served as the account's current ``name`` (Sugar's Contacts
  vardefs, public documentation). A lead's ``account_name`` is plain text.
- Target Lists (``ProspectLists``, created and found like any module) relate
  to contacts and leads through Sugar's link endpoints
  (:mod:`connectors.sugarcrm.sandbox_lists`).
- Times are ISO 8601 with whole seconds and an offset
  (``2024-05-01T10:20:30+00:00``). Sugar's times can tie within a second; this
  sandbox gives each write a later second than any before, so that tests of
  incremental reads are exact.

Sugar publishes no request budget, so the sandbox sets none; faults serve 429s.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pycountry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sugarcrm.filters import FilterError, matches, order
from connectors.sugarcrm.mapping import SugarRecord
from connectors.sugarcrm.sandbox_lists import TARGET_LISTS, Relations
from hub.http import Clock
from hub.testing.fake import FakePerson, fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["CLIENT_ID", "PASSWORD", "USERNAME", "SugarSandbox"]

USERNAME = "hub"
PASSWORD = "sugar-sandbox-password"
CLIENT_ID = "sugar"
STREAMS = {"customers": "Contacts", "leads": "Leads", "accounts": "Accounts", "cases": "Cases"}
_ROOT = "/rest/{version:str}"
_MAX_NUM = 1000
_SECOND = timedelta(seconds=1)
_CASE_STATUSES = ("New", "Assigned", "Pending Input", "Closed")
_CASE_SOURCES = ("Email", "Phone", "Web", "Internal")
_DEFAULTS: dict[str, SugarRecord] = {"Contacts": {"account_id": ""}}
"""Fields every record of a module has (Sugar's vardefs), so that filters on them work."""
_INDUSTRIES = ("Retail", "Hospitality", "Manufacturing", "Technology")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class SugarSandbox(Sandbox):
    """Sugar modules in memory behind its paths, OAuth2 sessions and errors."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token_lifetime: int = 3600,
        refresh_lifetime: int = 1209600,
    ) -> None:
        self.modules: dict[str, dict[str, SugarRecord]] = {m: {} for m in STREAMS.values()}
        self.modules["Tasks"] = {}  # written by the hub (connectors/sugarcrm/tasks.py), not read
        self.modules[TARGET_LISTS] = {}  # hub segments (connectors/sugarcrm/lists.py)
        self.relations = Relations(self.modules, self._served)  # before routes() is called
        super().__init__(clock=clock)
        self.token_lifetime, self.refresh_lifetime = token_lifetime, refresh_lifetime
        self.access: dict[str, float] = {}
        """Live access tokens and when they expire (sandbox clock)."""
        self.refresh: dict[str, float] = {}
        self.grants: list[str] = []
        """The grant type of every token issued, in order, for tests to inspect."""
        self._case_numbers = iter(range(1, 10**9))
        self._last = datetime.fromtimestamp(0, UTC)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(_ROOT + "/oauth2/token", self._token, methods=["POST"]),
            *self.relations.routes(_ROOT),
            Route(_ROOT + "/{module}/filter", self._filter, methods=["POST"]),
            Route(_ROOT + "/{module}/sync_key/{key}", self._upsert, methods=["PATCH"]),
            Route(_ROOT + "/{module}", self._create, methods=["POST"]),
            Route(_ROOT + "/{module}/{record}", self._get, methods=["GET"]),
            Route(_ROOT + "/{module}/{record}", self._update, methods=["PUT"]),
            Route(_ROOT + "/{module}/{record}", self._delete, methods=["DELETE"]),
        ]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        return JSONResponse({"error": code, "error_message": message}, status, headers)

    def authenticate(self, request: Request) -> Response | None:
        if request.url.path.endswith("/oauth2/token"):
            return None
        token = request.headers.get("OAuth-Token")
        if not token:
            return self.error(401, "need_login", "No valid authentication for user.")
        if self.access.get(token, 0.0) <= self.clock.time():
            return self.expired_token()
        return None

    def expired_token(self) -> Response:
        return self.error(401, "invalid_grant", "The access token provided is invalid.")

    def throttled(self, retry_after: float) -> Response:
        response = self.error(429, "too_many_requests", "Too many requests; try again later.")
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    def outage(self, status: int) -> Response:
        if status == 503:
            return self.error(503, "maintenance", "The server is in maintenance mode.")
        return self.error(status, "fatal_error", "The server encountered an error.")

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "username": USERNAME,
            "password": "${SUGARCRM_SANDBOX_PASSWORD}",
        }

    def environment(self) -> dict[str, str]:
        return {"SUGARCRM_SANDBOX_PASSWORD": PASSWORD}

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        """People, leads and cases; two contacts in three work for one of the accounts."""
        accounts = [self._add("Accounts", _account(number)) for number in range(count // 2 + 1)]
        contacts = [
            self._add(
                "Contacts",
                _person(p)
                | (
                    {"account_id": accounts[p.number % len(accounts)]["id"]} if p.number % 3 else {}
                ),
            )
            for p in fake_people(count, seed=seed)
        ]
        for person in fake_people(count, seed=seed + 500):
            lead = {"status": "New", "lead_source": "Web Site", "account_name": person.last_name}
            self._add("Leads", _person(person) | lead)
        for number, contact in enumerate(contacts, 1):
            for extra in range(1 + (number % 4 == 0)):
                self._add("Cases", self._case(contact, number + extra))

    def records(self, stream: str) -> dict[str, SugarRecord]:
        """The records of ``stream`` as the API serves them, by id.

        For ``accounts`` these are the contacts linked to an account: what the
        connector's stream of that name reads. For ``segment_members`` (written,
        never read) they are the Target Lists' contacts, by ``<list id>/<contact id>``.
        """
        if stream == "segment_members":
            return self.relations.memberships()
        if stream == "accounts":
            return {
                key: self._served(contact)
                for key, contact in self.modules["Contacts"].items()
                if contact.get("account_id") in self.modules["Accounts"]
            }
        return {key: self._served(record) for key, record in self.modules[_module(stream)].items()}

    def add_invalid(self, stream: str) -> str:
        """A record no mapping can accept: an e-mail typed twice over, a case without a date."""
        module = _module(stream)
        if module == "Cases":
            contact = next(iter(self.modules["Contacts"].values()), {"id": None})
            case = self._add(module, self._case(contact, 1))
            case["date_entered"] = ""  # a legacy import left it empty
            return str(case["id"])
        broken = {"first_name": "Ann", "email": [_address("ann@@example.com", primary=True)]}
        if module == "Accounts":  # the stream reads contacts: one of a new account
            account = self._add(module, _account(len(self.modules[module]) + 1))
            broken["account_id"] = account["id"]
            module = "Contacts"
        return str(self._add(module, broken)["id"])

    def touch(self, stream: str, external_id: str) -> None:
        """Edit a record as a Sugar user would: a contact's last name, a case's status.

        For ``accounts`` (whose records are contacts) the contact moves to a
        new account, as when someone changes jobs.
        """
        if stream == "accounts":
            account = self._add("Accounts", _account(len(self.modules["Accounts"]) + 1))
            self.edit("customers", external_id, account_id=account["id"])
            return
        record = self.modules[_module(stream)][external_id]
        if record["_module"] == "Cases":
            status = "Closed" if record.get("status") != "Closed" else "Assigned"
            self.edit(stream, external_id, status=status)
        else:
            self.edit(stream, external_id, last_name=f"{record.get('last_name') or ''}-Edited")

    def edit(self, stream: str, external_id: str, **fields: Any) -> None:
        """Change fields of a record as a Sugar user would; its ``date_modified`` moves on."""
        record = self.modules[_module(stream)][external_id]
        _write(record, fields)
        record["date_modified"] = self._stamp()

    def add(self, stream: str, fields: SugarRecord) -> SugarRecord:
        """Store a record as a Sugar user would create it; returns it as served."""
        return copy.deepcopy(self._add(_module(stream), fields))

    def add_target_list(self, name: str, list_type: str = "default") -> SugarRecord:
        """A Target List as a Sugar user creates one (``exempt`` ones suppress, not send)."""
        return copy.deepcopy(self._add(TARGET_LISTS, {"name": name, "list_type": list_type}))

    def case_for(self, contact_id: str, number: int) -> SugarRecord:
        """The fields of a seeded-style case on a contact, for :meth:`add`."""
        return self._case({"id": contact_id}, number)

    def _case(self, contact: SugarRecord, number: int) -> SugarRecord:
        return {
            "name": f"Order problem #{number}",
            "case_number": next(self._case_numbers),
            "status": _CASE_STATUSES[number % len(_CASE_STATUSES)],
            "priority": f"P{number % 3 + 1}",
            "type": "Product",
            "source": _CASE_SOURCES[number % len(_CASE_SOURCES)],
            "description": "The parcel arrived damaged.",
            "primary_contact_id": contact["id"],
            "account_id": "",
        }

    def _served(self, record: SugarRecord) -> SugarRecord:
        """A copy as the API answers it: a contact's ``account_name`` read from its account."""
        served = copy.deepcopy(record)
        if record["_module"] == "Contacts":
            account = self.modules["Accounts"].get(str(record.get("account_id") or ""))
            served["account_name"] = account["name"] if account else ""
        return served

    def _add(self, module: str, fields: SugarRecord, *, key: str | None = None) -> SugarRecord:
        stamp = self._stamp()
        record: SugarRecord = {
            "id": str(uuid.uuid4()),
            "date_entered": stamp,
            "date_modified": stamp,
            "deleted": False,
            "sync_key": key,
            "_module": module,
            **_DEFAULTS.get(module, {}),
        }
        _write(record, fields)
        self.modules[module][record["id"]] = record
        return record

    def _stamp(self) -> str:
        """Now to the second, always a second after the previous write's time."""
        now = self.now().replace(microsecond=0)
        self._last = max(now, self._last + _SECOND)
        return self._last.isoformat()

    # Routes.

    async def _token(self, request: Request) -> Response:
        try:
            grant = await _body(request)
            if grant.get("client_id") != CLIENT_ID or grant.get("client_secret", "") != "":
                raise _Refused(401, "invalid_client", "The client credentials are invalid.")
            if grant.get("grant_type") == "password":
                self._login(grant)
            elif grant.get("grant_type") == "refresh_token":
                self._renew(str(grant.get("refresh_token")))
            else:
                raise _Refused(400, "unsupported_grant_type", "The grant type is unsupported.")
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        self.grants.append(str(grant["grant_type"]))
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        now = self.clock.time()
        self.access[access] = now + self.token_lifetime
        self.refresh[refresh] = now + self.refresh_lifetime
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": self.token_lifetime,
                "token_type": "bearer",
                "scope": None,
                "refresh_token": refresh,
                "refresh_expires_in": self.refresh_lifetime,
                "download_token": secrets.token_hex(16),
            }
        )

    def _login(self, grant: SugarRecord) -> None:
        if (grant.get("username"), grant.get("password")) != (USERNAME, PASSWORD):
            raise _Refused(401, "need_login", "You must specify a valid username and password.")
        if not grant.get("platform"):
            raise _Refused(400, "invalid_request", "The platform is required.")
        self.access.clear()  # one session per user and platform: a new login ends the old
        self.refresh.clear()

    def _renew(self, token: str) -> None:
        if self.refresh.pop(token, 0.0) <= self.clock.time():
            raise _Refused(400, "invalid_grant", "Invalid refresh token")

    async def _filter(self, request: Request) -> Response:
        try:
            rows = self._rows(request)
            query = await _body(request)
            wanted = [r for r in rows.values() if matches(r, query.get("filter") or [])]
            wanted = order(wanted, str(query.get("order_by") or "date_modified:DESC"))
            size = min(int(query.get("max_num") or 20), _MAX_NUM)
            start = int(query.get("offset") or 0)
        except (FilterError, ValueError) as exc:
            return self.error(422, "invalid_parameter", str(exc))
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        page = [self._served(record) for record in wanted[start : start + size]]
        more = start + size < len(wanted)
        return JSONResponse({"next_offset": start + size if more else -1, "records": page})

    async def _get(self, request: Request) -> Response:
        try:
            return JSONResponse(self._served(self._record(request)))
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))

    async def _create(self, request: Request) -> Response:
        try:
            self._rows(request)
            body = await _body(request)
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        return JSONResponse(self._add(request.path_params["module"], body))

    async def _update(self, request: Request) -> Response:
        try:
            record, body = self._record(request), await _body(request)
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        _write(record, body)
        record["date_modified"] = self._stamp()
        return JSONResponse(record)

    async def _upsert(self, request: Request) -> Response:
        key = request.path_params["key"]
        try:
            rows, body = self._rows(request), await _body(request)
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        record = next((r for r in rows.values() if r.get("sync_key") == key), None)
        if record is None:
            return JSONResponse(self._add(request.path_params["module"], body, key=key))
        _write(record, body)
        record["date_modified"] = self._stamp()
        return JSONResponse(record)

    async def _delete(self, request: Request) -> Response:
        try:
            record = self._record(request)
        except _Refused as exc:
            return self.error(exc.status, exc.code, str(exc))
        del self.modules[record["_module"]][record["id"]]
        return JSONResponse({"id": record["id"]})

    def _rows(self, request: Request) -> dict[str, SugarRecord]:
        module = request.path_params["module"]
        if module not in self.modules:
            raise _Refused(404, "not_found", f"Could not find module: {module}")
        return self.modules[module]

    def _record(self, request: Request) -> SugarRecord:
        record_id = request.path_params["record"]
        record = self._rows(request).get(record_id)
        if record is None:
            module = request.path_params["module"]
            raise _Refused(404, "not_found", f"Could not find record: {record_id} in {module}")
        return record


def _module(stream: str) -> str:
    if stream not in STREAMS:
        raise ValueError(f"the SugarCRM sandbox has no stream {stream!r}; it has {list(STREAMS)}")
    return STREAMS[stream]


def _person(person: FakePerson) -> SugarRecord:
    country = pycountry.countries.get(alpha_2=person.country)
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": [_address(person.email, primary=True, opt_out=not person.email_consent)],
        "phone_mobile": person.phone,
        "primary_address_street": person.street,
        "primary_address_city": person.city,
        "primary_address_postalcode": person.postcode,
        "primary_address_country": country.name if country else person.country,
        "birthdate": person.birth_date.isoformat(),
        "preferred_language": {"es": "es_ES", "de": "de_DE", "fr": "fr_FR", "it": "it_it"}.get(
            person.language, "en_us"
        ),
        "tag": [{"name": "vip"}] if person.number % 7 == 0 else [],
    }


def _account(number: int) -> SugarRecord:
    return {
        "name": f"Comercial {number} SL",
        "account_type": "Customer",
        "industry": _INDUSTRIES[number % len(_INDUSTRIES)],
        "billing_address_city": "Madrid",
        "billing_address_country": "Spain",
        "email": [_address(f"info@comercial{number}.example.es", primary=True)],
    }


def _address(email: str, *, primary: bool, opt_out: bool = False) -> SugarRecord:
    return {
        "email_address": email,
        "primary_address": primary,
        "reply_to_address": False,
        "invalid_email": False,
        "opt_out": opt_out,
    }


def _write(record: SugarRecord, fields: SugarRecord) -> None:
    """Apply sent fields; e-mail flags the sender leaves out stay as the address had them."""
    for name, value in fields.items():
        if name in ("id", "_module", "date_entered", "date_modified"):
            continue
        if name == "email":
            known = {e["email_address"].casefold(): e for e in record.get("email") or []}
            record["email"] = [_merged(known, sent) for sent in value or []]
            primary = [e["email_address"] for e in record["email"] if e["primary_address"]]
            record["email1"] = primary[0] if primary else ""
        elif name == "tag":
            record["tag"] = [
                {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, t["name"])), "name": t["name"]}
                for t in value or []
            ]
        else:
            record[name] = value


def _merged(known: dict[str, SugarRecord], sent: SugarRecord) -> SugarRecord:
    address = str(sent.get("email_address") or "")
    before = known.get(address.casefold()) or _address(address, primary=False)
    flags = {flag: bool(sent[flag]) for flag in ("opt_out", "invalid_email") if flag in sent}
    return (
        before
        | {"email_address": address, "primary_address": bool(sent.get("primary_address"))}
        | flags
    )


async def _body(request: Request) -> SugarRecord:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "invalid_request", "The request body is not JSON.") from None
    else:  # a form, as Sugar's own clients often send the token request
        body = dict(parse_qsl((await request.body()).decode()))
    if not isinstance(body, dict):
        raise _Refused(422, "invalid_parameter", "The request body must be an object.")
    return body
