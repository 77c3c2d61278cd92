"""vTiger CRM's webservice API (webservice.php), emulated for Contacts, Leads, Accounts, HelpDesk.

No licence-clean vTiger material exists (its code and docs are under the
vtiger Public License), so this follows the behaviour vTiger's public
webservice documentation describes (its REST webservices tutorial and
reference, as vTiger and its derivatives publish them):

- One endpoint, ``/webservice.php``; the ``operation`` parameter picks the
  call. Reads are GET with query parameters; writes are POST forms, with the
  record as a JSON string in ``element``.
- ``getchallenge&username=`` answers ``{token, serverTime, expireTime}`` (the
  token lives 5 minutes, and serves any number of logins until then);
  ``login`` with ``username`` and ``accessKey = md5(token + access key)``
  answers ``{sessionName, userId, version, vtigerVersion}``. Every other call
  needs ``sessionName``; sessions end after ``session_lifetime`` seconds idle
  (the sandbox's clock).
- Every answer is HTTP 200: ``{"success": true, "result": ...}`` or
  ``{"success": false, "error": {"code", "message"}}`` with vTiger's codes
  (``INVALID_SESSIONID``, ``AUTHENTICATION_REQUIRED``, ``INVALID_AUTH_TOKEN``,
  ``INVALID_USER_CREDENTIALS``, ``INVALID_MODULE``, ``RECORD_NOT_FOUND``,
  ``MANDATORY_FIELDS_MISSING``, ``QUERY_SYNTAX_ERROR``). Only a failing web
  server answers 5xx, and a throttling proxy 429.
- Ids are ``<module id>x<record id>`` (Leads 10, Accounts 11, Contacts 12,
  HelpDesk 17, Users 19),
  record ids one sequence over all modules. Values are strings; flags
  ``"0"``/``"1"``; times ``2024-05-01 10:20:30`` in UTC.
- ``sync&elementType=&modifiedTime=`` (Unix seconds) answers records changed
  after that time, oldest first, in ``updated``, the ids deleted since in
  ``deleted``, ``lastModifiedTime`` and ``more``. Like vTiger's own, a batch
  never splits one second: it holds up to ``sync_limit`` (100) changes plus
  every other change in the second of the last.
- An operation the instance lacks (``without``) is refused like an unknown
  one, ``UNKNOWN_OPERATION``, as vTiger's operation manager does.
- ``query`` runs VTQL (see :mod:`connectors.vtiger.vtql`), at most 100 rows.
- A contact's ``account_id`` refers to an Account (``11x..``); vTiger serves
  the reference only, never the account's name.
- ``retrieve&id=``; ``create`` (``elementType``, ``element``; ``lastname`` and
  ``assigned_user_id`` are mandatory for Contacts and Leads, ``accountname``
  for Accounts); ``revise`` updates the
  fields sent; ``delete&id=``.
- A write always gets a later second than any before it, so that tests of
  incremental reads are exact (vTiger's times can tie within a second).
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pycountry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.vtiger.mapping import VtigerRecord
from connectors.vtiger.vtql import QueryError, parse
from hub.http import Clock
from hub.testing.fake import FakePerson, fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["ACCESS_KEY", "USERNAME", "VtigerSandbox"]

USERNAME = "admin"
ACCESS_KEY = "vtigerSandboxAccessKey1"
USER_ID = "19x1"
STREAMS = {"customers": "Contacts", "leads": "Leads", "accounts": "Accounts", "tickets": "HelpDesk"}
MODULE_IDS = {"Leads": 10, "Accounts": 11, "Contacts": 12, "HelpDesk": 17}
MANDATORY = {
    "Contacts": ("lastname", "assigned_user_id"),
    "Leads": ("lastname", "assigned_user_id"),
    "Accounts": ("accountname", "assigned_user_id"),
    "HelpDesk": ("ticket_title",),
}
_CHALLENGE_LIFETIME = 300
_SECOND = timedelta(seconds=1)
_FORMAT = "%Y-%m-%d %H:%M:%S"
_STATUSES = ("Open", "In Progress", "Wait For Response", "Closed")
_PRIORITIES = ("Low", "Normal", "High", "Urgent")
_LEAD_SOURCES = ("Web Site", "Cold Call", "Trade Show", "Existing Customer")


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class VtigerSandbox(Sandbox):
    """vTiger records in memory behind webservice.php, its sessions and its sync."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        session_lifetime: int = 1800,
        sync_limit: int = 100,
        without: frozenset[str] = frozenset(),
    ) -> None:
        """``without``: operations this instance lacks (``sync`` on old or locked-down ones)."""
        super().__init__(clock=clock)
        self.without = without
        self.modules: dict[str, dict[str, VtigerRecord]] = {m: {} for m in MODULE_IDS}
        self.deleted: dict[str, dict[str, str]] = {m: {} for m in MODULE_IDS}
        """Deleted ids per module and when, for sync's ``deleted``."""
        self.session_lifetime, self.sync_limit = session_lifetime, sync_limit
        self.sessions: dict[str, float] = {}
        """Live sessions and when they were last used (sandbox clock)."""
        self.logins = 0
        self._challenges: dict[str, float] = {}
        self._crmids = iter(range(1, 10**9))
        self._last = datetime.fromtimestamp(0, UTC)

    def routes(self) -> list[BaseRoute]:
        return [Route("/webservice.php", self._call, methods=["GET", "POST"])]

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = {"success": False, "error": {"code": code.upper(), "message": message}}
        return JSONResponse(body, status, headers)

    def expired_token(self) -> Response:
        return self.error(200, "INVALID_SESSIONID", "Session Identifier provided is Invalid")

    def throttled(self, retry_after: float) -> Response:
        headers = {"Retry-After": str(max(1, round(retry_after)))}
        return self.error(429, "TOO_MANY_REQUESTS", "Too many requests", headers=headers)

    def outage(self, status: int) -> Response:
        return Response(
            "<html><body>Service Unavailable</body></html>", status, media_type="text/html"
        )

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "username": USERNAME, "access_key": "${VTIGER_ACCESS_KEY}"}

    def environment(self) -> dict[str, str]:
        return {"VTIGER_ACCESS_KEY": ACCESS_KEY}

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        """People, leads and tickets; two contacts in three work for one of the accounts."""
        accounts = [self._add("Accounts", _account(number)) for number in range(count // 2 + 1)]
        contacts = [
            self._add(
                "Contacts",
                _contact(p)
                | (
                    {"account_id": accounts[p.number % len(accounts)]["id"]} if p.number % 3 else {}
                ),
            )
            for p in fake_people(count, seed=seed)
        ]
        for person in fake_people(count, seed=seed + 500):
            self._add("Leads", _lead(person))
        for number, contact in enumerate(contacts, 1):
            for extra in range(1 + (number % 3 == 0)):
                self._add("HelpDesk", _ticket(contact["id"], number + extra))

    def records(self, stream: str) -> dict[str, VtigerRecord]:
        """The records of ``stream`` as the connector reads them, by id.

        Contacts carry their account's ``accountname``, as the connector adds
        it; ``accounts`` are the contacts linked to an account, which the
        connector's stream of that name reads.
        """
        if stream not in ("customers", "accounts"):
            return copy.deepcopy(self.modules[_module(stream)])
        accounts = self.modules["Accounts"]
        return {
            key: copy.deepcopy(contact)
            | ({"accountname": accounts[link]["accountname"]} if link in accounts else {})
            for key, contact in self.modules["Contacts"].items()
            if (link := contact.get("account_id", "")) in accounts or stream == "customers"
        }

    def add_invalid(self, stream: str) -> str:
        """A record no mapping can accept, as legacy imports leave behind."""
        module = _module(stream)
        if module == "HelpDesk":
            ticket = self._add(module, _ticket("", 1))
            ticket["createdtime"] = "0000-00-00 00:00:00"  # MySQL's zero date
            return str(ticket["id"])
        broken = {"lastname": "Broken", "email": "ann@@example.com"}
        if module == "Accounts":  # the stream reads contacts: one of a new account
            broken["account_id"] = self._add(module, _account(len(self.modules[module])))["id"]
            module = "Contacts"
        return str(self._add(module, broken)["id"])

    def touch(self, stream: str, external_id: str) -> None:
        """Edit as a vTiger user would: a contact's last name, a ticket's status.

        For ``accounts`` (whose records are contacts) the contact moves to a
        new account, as when someone changes jobs.
        """
        if stream == "accounts":
            account = self._add("Accounts", _account(len(self.modules["Accounts"])))
            self.edit("customers", external_id, account_id=account["id"])
            return
        record = self.modules[_module(stream)][external_id]
        if "ticketstatus" in record:
            status = "Closed" if record["ticketstatus"] != "Closed" else "Open"
            self.edit(stream, external_id, ticketstatus=status)
        else:
            self.edit(stream, external_id, lastname=f"{record['lastname']}-Edited")

    def edit(self, stream: str, external_id: str, **fields: str) -> None:
        """Change fields of a record as a vTiger user would; its ``modifiedtime`` moves on."""
        record = self.modules[_module(stream)][external_id]
        record.update(fields, modifiedtime=self._stamp())

    def add(self, stream: str, fields: VtigerRecord) -> VtigerRecord:
        """Store a record as a vTiger user would create it; returns it as served."""
        return copy.deepcopy(self._add(_module(stream), fields))

    def _add(self, module: str, fields: VtigerRecord) -> VtigerRecord:
        stamp = self._stamp()
        record_id = f"{MODULE_IDS[module]}x{next(self._crmids)}"
        record = {"assigned_user_id": USER_ID} | {k: str(v) for k, v in fields.items()}
        record |= {"id": record_id, "createdtime": stamp, "modifiedtime": stamp}
        self.modules[module][record_id] = record
        return record

    def _stamp(self) -> str:
        now = self.now().replace(microsecond=0)
        self._last = max(now, self._last + _SECOND)
        return self._last.strftime(_FORMAT)

    # The one route, and the operations behind it.

    async def _call(self, request: Request) -> Response:
        fields: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            fields |= {k: str(v) for k, v in (await _form(request)).items()}
        operation = fields.get("operation", "")
        handler = {
            "getchallenge": self._challenge,
            "login": self._login,
            "sync": self._sync,
            "query": self._query,
            "retrieve": self._retrieve,
            "create": self._create,
            "revise": self._revise,
            "delete": self._delete,
        }.get(operation)
        if operation in self.without:
            handler = None
        try:
            if handler is None:
                raise _Failed("UNKNOWN_OPERATION", f"Unknown operation requested: {operation}")
            if operation not in ("getchallenge", "login"):
                self._check_session(fields.get("sessionName"))
            result = handler(fields)
        except _Failed as exc:
            return self.error(200, exc.code, str(exc))
        return JSONResponse({"success": True, "result": result})

    def _check_session(self, name: str | None) -> None:
        if not name:
            raise _Failed("AUTHENTICATION_REQUIRED", "Authentication required")
        used = self.sessions.get(name)
        now = self.clock.time()
        if used is None or now - used > self.session_lifetime:
            self.sessions.pop(name, None)
            raise _Failed("INVALID_SESSIONID", "Session Identifier provided is Invalid")
        self.sessions[name] = now

    def _challenge(self, fields: dict[str, str]) -> dict[str, Any]:
        if fields.get("username") != USERNAME:
            raise _Failed("INVALID_USER_CREDENTIALS", "Invalid username or password")
        token = secrets.token_hex(8)
        now = int(self.clock.time())
        self._challenges[token] = now + _CHALLENGE_LIFETIME
        return {"token": token, "serverTime": now, "expireTime": now + _CHALLENGE_LIFETIME}

    def _login(self, fields: dict[str, str]) -> dict[str, Any]:
        live = {t for t, until in self._challenges.items() if until > self.clock.time()}
        expected = {hashlib.md5((t + ACCESS_KEY).encode()).hexdigest(): t for t in live}
        token = expected.get(fields.get("accessKey", ""))
        if fields.get("username") != USERNAME or token is None:
            raise _Failed("INVALID_AUTH_TOKEN", "Specified token is invalid or expired")
        self.logins += 1
        session = secrets.token_hex(12)
        self.sessions[session] = self.clock.time()
        return {
            "sessionName": session,
            "userId": USER_ID,
            "version": "0.22",
            "vtigerVersion": "7.5.0",
        }

    def _sync(self, fields: dict[str, str]) -> dict[str, Any]:
        module = _known(fields.get("elementType"))
        try:
            since = datetime.fromtimestamp(int(fields.get("modifiedTime", "")), UTC)
        except ValueError:
            raise _Failed("INVALID_PARAMETER", "modifiedTime must be a Unix time") from None
        changes = sorted(
            [(r["modifiedtime"], r["id"], r) for r in self.modules[module].values()]
            + [(when, gone, None) for gone, when in self.deleted[module].items()],
            key=lambda change: (change[0], change[1]),
        )
        after = [c for c in changes if _at(c[0]) > since]
        if not after:
            return {
                "updated": [],
                "deleted": [],
                "lastModifiedTime": int(since.timestamp()),
                "more": False,
            }
        boundary = after[: self.sync_limit][-1][0]
        batch = [c for c in after if c[0] <= boundary]
        return {
            "updated": [copy.deepcopy(r) for _, _, r in batch if r is not None],
            "deleted": [record_id for _, record_id, r in batch if r is None],
            "lastModifiedTime": int(_at(boundary).timestamp()),
            "more": len(batch) < len(after),
        }

    def _query(self, fields: dict[str, str]) -> list[VtigerRecord]:
        try:
            query = parse(fields.get("query", ""))
        except QueryError as exc:
            raise _Failed("QUERY_SYNTAX_ERROR", str(exc)) from None
        rows = list(self.modules[_known(query.module)].values())
        return copy.deepcopy(query.run(rows))

    def _retrieve(self, fields: dict[str, str]) -> VtigerRecord:
        return copy.deepcopy(self._record(fields.get("id", "")))

    def _create(self, fields: dict[str, str]) -> VtigerRecord:
        module = _known(fields.get("elementType"))
        element = _element(fields)
        missing = [name for name in MANDATORY[module] if not element.get(name)]
        if missing:
            raise _Failed("MANDATORY_FIELDS_MISSING", f"{missing[0]} does not have a value")
        return copy.deepcopy(self._add(module, element))

    def _revise(self, fields: dict[str, str]) -> VtigerRecord:
        element = _element(fields)
        record = self._record(str(element.get("id", "")))
        for name, value in element.items():
            if name not in ("id", "createdtime", "modifiedtime"):
                record[name] = str(value)
        module = _module_of(record["id"])
        if any(not record.get(name) for name in MANDATORY[module]):
            raise _Failed("MANDATORY_FIELDS_MISSING", "a mandatory field would be emptied")
        record["modifiedtime"] = self._stamp()
        return copy.deepcopy(record)

    def _delete(self, fields: dict[str, str]) -> dict[str, str]:
        record = self._record(fields.get("id", ""))
        module = _module_of(record["id"])
        del self.modules[module][record["id"]]
        self.deleted[module][record["id"]] = self._stamp()
        return {"status": "successful"}

    def _record(self, record_id: str) -> VtigerRecord:
        module = _module_of(record_id)
        record = self.modules.get(module, {}).get(record_id)
        if record is None:
            raise _Failed("RECORD_NOT_FOUND", "Record you are trying to access is not found")
        return record


def _module(stream: str) -> str:
    if stream not in STREAMS:
        raise ValueError(f"the vTiger sandbox has no stream {stream!r}; it has {list(STREAMS)}")
    return STREAMS[stream]


def _known(module: str | None) -> str:
    if module not in MODULE_IDS:
        raise _Failed("INVALID_MODULE", f"Permission to perform the operation on {module} denied")
    return module


def _module_of(record_id: str) -> str:
    prefix = record_id.partition("x")[0]
    return next((m for m, number in MODULE_IDS.items() if str(number) == prefix), "")


def _at(stamp: str) -> datetime:
    return datetime.strptime(stamp, _FORMAT).replace(tzinfo=UTC)


def _element(fields: dict[str, str]) -> VtigerRecord:
    try:
        element = json.loads(fields.get("element", ""))
    except ValueError:
        raise _Failed("INVALID_PARAMETER", "element is not valid JSON") from None
    if not isinstance(element, dict):
        raise _Failed("INVALID_PARAMETER", "element must be a JSON object")
    return element


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode()))


def _contact(person: FakePerson) -> VtigerRecord:
    country = pycountry.countries.get(alpha_2=person.country)
    return {
        "firstname": person.first_name,
        "lastname": person.last_name,
        "email": person.email,
        "secondaryemail": "",
        "mobile": person.phone,
        "phone": "",
        "mailingstreet": person.street,
        "mailingcity": person.city,
        "mailingzip": person.postcode,
        "mailingcountry": country.name if country else person.country,
        "birthday": person.birth_date.isoformat(),
        "emailoptout": "0" if person.email_consent else "1",
        "contact_no": f"CON{person.number}",
    }


def _lead(person: FakePerson) -> VtigerRecord:
    country = pycountry.countries.get(alpha_2=person.country)
    return {
        "firstname": person.first_name,
        "lastname": person.last_name,
        "company": f"{person.last_name} Imports",
        "email": person.email,
        "secondaryemail": "",
        "mobile": person.phone,
        "phone": "",
        "lane": person.street,
        "city": person.city,
        "code": person.postcode,
        "country": country.name if country else person.country,
        "leadsource": _LEAD_SOURCES[person.number % len(_LEAD_SOURCES)],
        "leadstatus": "Not Contacted",
        "emailoptout": "0" if person.email_consent else "1",
        "lead_no": f"LEA{person.number}",
    }


def _account(number: int) -> VtigerRecord:
    return {
        "accountname": f"Comercial {number} SL",
        "account_no": f"ACC{number}",
        "email1": f"info@comercial{number}.example.es",
        "industry": "Retail",
        "bill_city": "Madrid",
        "bill_country": "Spain",
        "emailoptout": "0",
    }


def _ticket(contact_id: str, number: int) -> VtigerRecord:
    return {
        "ticket_title": f"Where is my order #{number}?",
        "ticket_no": f"TT{number}",
        "ticketstatus": _STATUSES[number % len(_STATUSES)],
        "ticketpriorities": _PRIORITIES[number % len(_PRIORITIES)],
        "ticketseverities": "Minor",
        "ticketcategories": "Small Problem",
        "contact_id": contact_id,
        "parent_id": "",
        "description": "The tracking link shows nothing.",
    }
