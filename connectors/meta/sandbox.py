"""A local emulator of Meta's Graph API: lead forms, insights, custom audiences, webhooks.

No licence-clean vendor material exists for Meta (see the vendor README's
gaps), so this follows Meta's public Graph API and Marketing API reference:

- Paths are the real ones under a version prefix: ``/v21.0/{form_id}/leads``,
  ``/v21.0/act_{id}/insights``, ``/v21.0/act_{id}/customaudiences``,
  ``/v21.0/{audience_id}/users``. A version outside :data:`VERSIONS` is error
  2635, as Meta answers a deprecated version.
- The token comes as the ``access_token`` parameter or ``Authorization:
  Bearer``/``OAuth``. None is code 104, a wrong one code 190 (subcode 467), an
  expired one 190 (subcode 463): ``{"error": {message, type: "OAuthException",
  code, error_subcode, fbtrace_id}}`` with HTTP 400 and Meta's
  ``WWW-Authenticate: OAuth "Facebook Platform" "invalid_token" ...`` header.
- A wrong ``appsecret_proof`` (HMAC-SHA256 of the token, keyed with the app
  secret) is code 100, when one is sent.
- Every answer carries ``X-App-Usage`` and ``X-Business-Use-Case-Usage``,
  rising with traffic (:class:`~connectors.meta.usage.UsageWindow`); past the
  budget, code 80004 (the ads-management use case is throttled) with
  ``estimated_time_to_regain_access``. Outages are code 1 (500) and 2 (503).
- Edges page with cursors: ``{"data": [...], "paging": {"cursors": {"before",
  "after"}, "next": url}}``, ``next`` only while more follows and carrying the
  query it was asked with (the token too, as Meta's links do). Leads come
  newest first and filter on ``filtering=[{"field": "time_created",
  "operator": "GREATER_THAN", "value": <epoch>}]``. Times are
  ``2024-05-01T10:00:00+0000``.
- A new lead is announced by a ``leadgen`` webhook (:meth:`MetaSandbox.submit_lead`)
  signed ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the app
  secret>``; it carries ids and the time, never the answers.
- Custom audience uploads take ``payload={"schema": [...], "data": [[...]]}``
  (at most 10,000 rows) and an optional ``session`` whose ``batch_seq`` must
  count up from 1. Stricter than Meta, which silently fails to match bad
  rows: a value that is not a lower-case SHA-256 hex digest, or the hash of a
  known person's identifier normalised wrongly (see :mod:`.audience`), is
  refused with code 100 naming row and key, so a hashing bug cannot pass.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.meta.mapping import Lead
from connectors.meta.sandbox_audiences import AudienceCheck, Member, Refused
from connectors.meta.sandbox_data import insights_rows, new_lead
from connectors.meta.sandbox_paging import page_of
from connectors.meta.usage import UsageWindow
from hub.http import Clock
from hub.testing.fake import fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["ACCOUNT", "APP_SECRET", "FORMS", "TOKEN", "VERIFY_TOKEN", "VERSIONS", "MetaSandbox"]

TOKEN = "EAAsandbox-system-user-token"
APP_SECRET = "sandbox-app-secret"
VERIFY_TOKEN = "sandbox-verify-token"
VERSIONS = frozenset({"v20.0", "v21.0", "v22.0", "v23.0"})
ACCOUNT = "1234567890"
BUSINESS = "9876543210"
PAGE = "555000111"
FORMS = ("7001", "7002")
_PLATFORMS = ("fb", "ig")
_DEFAULT_LIMIT = 25


class MetaSandbox(Sandbox):
    """Lead forms, an ad account with insights, and custom audiences in memory."""

    def __init__(self, *, clock: Clock | None = None, calls_per_hour: int = 20_000) -> None:
        super().__init__(clock=clock)
        self.tokens = {TOKEN}
        self.app_secret = APP_SECRET
        self.currency = "EUR"
        self.limit = UsageWindow(calls_per_hour, clock=self.clock, business_id=BUSINESS)
        self.forms: dict[str, list[Lead]] = {form: [] for form in FORMS}
        self.insights: dict[str, list[dict[str, Any]]] = {"campaign": [], "adset": []}
        self.audiences: dict[str, dict[str, Any]] = {}
        self.check = AudienceCheck()
        self._ids = itertools.count(1)
        self._traces = itertools.count(1)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/{version}/{node}/leads", self._leads, methods=["GET"]),
            Route("/{version}/{node}/insights", self._insights, methods=["GET"]),
            Route("/{version}/{node}/customaudiences", self._audiences, methods=["GET"]),
            Route("/{version}/{node}/customaudiences", self._create_audience, methods=["POST"]),
            Route("/{version}/{node}/users", self._users, methods=["POST", "DELETE"]),
        ]

    # The vendor's edge.

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        """``code`` is Meta's number, optionally ``code/subcode``; non-numeric codes are 100."""
        number, _, subcode = code.partition("/")
        kind = (
            "OAuthException"
            if number in {"1", "2", "4", "17", "104", "190"}
            else "GraphMethodException"
        )
        body: dict[str, Any] = {
            "message": message,
            "type": kind,
            "code": int(number) if number.isdigit() else 100,
            "fbtrace_id": f"Asandbox{next(self._traces):08d}",
        }
        if subcode:
            body["error_subcode"] = int(subcode)
        extra = dict(headers or {})
        if number in {"104", "190"}:
            extra["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
        return JSONResponse({"error": body}, status, extra)

    def authenticate(self, request: Request) -> Response | None:
        version = request.url.path.split("/")[1]
        if version not in VERSIONS:
            return self.error(
                400, "2635", f"(#2635) You are calling a deprecated version of the API ({version})"
            )
        token = request.query_params.get("access_token")
        if token is None:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            token = value if scheme.lower() in {"bearer", "oauth"} else None
        if token is None:
            return self.error(400, "104", "An access token is required to request this resource.")
        proof = request.query_params.get("appsecret_proof")
        if token in self.tokens and proof is not None and proof != _proof(self.app_secret, token):
            return self.error(400, "100", "Invalid appsecret_proof provided in the API argument")
        if token not in self.tokens:
            return self.error(
                400, "190/467", "Invalid OAuth access token - Cannot parse access token"
            )
        return None

    def expired_token(self) -> Response:
        return self.error(400, "190/463", "Error validating access token: Session has expired")

    def throttled(self, retry_after: float) -> Response:
        assert isinstance(self.limit, UsageWindow)
        return self.error(
            400,
            "80004",
            "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.",
            headers=self.limit.headers(regain_seconds=max(retry_after, 60.0)),
        )

    def outage(self, status: int) -> Response:
        if status == 503:
            return self.error(503, "2", "Service temporarily unavailable")
        return self.error(status, "1", "An unknown error has occurred.")

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "access_token": "${META_SANDBOX_TOKEN}",
            "app_secret": "${META_SANDBOX_APP_SECRET}",
            "verify_token": "${META_SANDBOX_VERIFY_TOKEN}",
            "form_ids": list(FORMS),
            "ad_account_id": ACCOUNT,
            "consent": {"marketing_email": "email"},
        }

    def environment(self) -> dict[str, str]:
        return {
            "META_SANDBOX_TOKEN": TOKEN,
            "META_SANDBOX_APP_SECRET": APP_SECRET,
            "META_SANDBOX_VERIFY_TOKEN": VERIFY_TOKEN,
        }

    # State, as tests and the demo set it up.

    def populate(self, count: int, *, seed: int = 1) -> None:
        """``count`` leads over the two forms, and two campaigns of three ad sets each."""
        for person in fake_people(count, seed=seed):
            self.check.know(
                email=person.email,
                phone=person.phone,
                first_name=person.first_name,
                last_name=person.last_name,
                city=person.city,
            )
            self._add_lead(
                FORMS[person.number % len(FORMS)],
                {
                    "email": person.email,
                    "full_name": f"{person.first_name} {person.last_name}",
                    "phone_number": person.phone,
                    "city": person.city,
                    "zip_code": person.postcode,
                    "country": person.country,
                },
                created=person.created_at,
                platform=_PLATFORMS[person.number % 2],
                opted_in=person.email_consent,
            )
        if not self.insights["campaign"]:
            self._add_campaigns()

    def submit_lead(
        self, form_id: str, answers: dict[str, str], *, opted_in: bool = False, platform: str = "fb"
    ) -> tuple[bytes, dict[str, str]]:
        """A person sends a form: the lead is stored, and the signed webhook Meta would POST."""
        lead = self._add_lead(
            form_id, answers, created=self.stamp(), platform=platform, opted_in=opted_in
        )
        change = {
            "field": "leadgen",
            "value": {
                "leadgen_id": lead["id"],
                "page_id": PAGE,
                "form_id": form_id,
                "adgroup_id": lead["adset_id"],
                "ad_id": lead["ad_id"],
                "created_time": int(self.now().timestamp()),
            },
        }
        entry = {"id": PAGE, "time": int(self.now().timestamp()), "changes": [change]}
        body = json.dumps({"object": "page", "entry": [entry]}).encode()
        return body, {"content-type": "application/json", **self.signed(body)}

    def signed(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return {"x-hub-signature-256": f"sha256={digest}"}

    def records(self, stream: str) -> dict[str, dict[str, Any]]:
        """Leads by id (``leads``) or insights rows by ``level:id`` (``campaigns``)."""
        if stream == "leads":
            return {
                lead["id"]: copy.deepcopy(lead) for leads in self.forms.values() for lead in leads
            }
        if stream == "campaigns":
            return {
                f"{level}:{row[level + '_id']}": copy.deepcopy(row)
                for level, rows in self.insights.items()
                for row in rows
            }
        raise ValueError(f"the Meta sandbox has no stream {stream!r}; it has leads and campaigns")

    def add_invalid(self, stream: str) -> str:
        """A lead whose e-mail no mapping can accept (lead forms only check the shape)."""
        if stream != "leads":
            raise ValueError(f"the Meta sandbox adds invalid records to leads, not {stream!r}")
        lead = self._add_lead(FORMS[0], {"email": "ann@@example.com"}, created=self.stamp())
        return str(lead["id"])

    def touch(self, stream: str, external_id: str) -> None:
        raise ValueError("leads cannot be edited at Meta: a new submission is a new lead")

    def members(self, audience_id: str) -> set[Member]:
        """The people an audience holds, each as their uploaded (key, hash) pairs."""
        return set(self.audiences[audience_id]["members"])

    def _add_lead(
        self,
        form_id: str,
        answers: dict[str, str],
        *,
        created: datetime,
        platform: str = "fb",
        opted_in: bool = False,
    ) -> Lead:
        lead_id = f"9{next(self._ids):014d}"
        lead = new_lead(lead_id, form_id, answers, created, platform=platform, opted_in=opted_in)
        self.forms.setdefault(form_id, []).append(lead)
        return lead

    def _add_campaigns(self) -> None:
        for level, rows in insights_rows(self.now(), self.currency).items():
            self.insights[level].extend(rows)

    # Routes.

    async def _leads(self, request: Request) -> Response:
        leads = self.forms.get(request.path_params["node"])
        if leads is None:
            return self._no_object(request)
        try:
            since = _time_filter(request.query_params.get("filtering"))
        except Refused as exc:
            return self.error(400, "100", str(exc))
        rows = [lead for lead in leads if since is None or _epoch(lead) > since]
        fields = _fields(request, default=("id", "created_time", "field_data"))
        return self._page(request, rows, key=_newest_first, fields=fields)

    async def _insights(self, request: Request) -> Response:
        node, level = request.path_params["node"], request.query_params.get("level", "ad")
        if node != f"act_{ACCOUNT}":
            return self._no_object(request)
        if level not in self.insights:
            return self.error(
                400, "100", f"(#100) level must be one of campaign, adset, not {level}"
            )
        fields = _fields(request, default=("spend", "impressions", "date_start", "date_stop"))
        return self._page(
            request, self.insights[level], key=lambda row: row[f"{level}_id"], fields=fields
        )

    async def _audiences(self, request: Request) -> Response:
        if request.path_params["node"] != f"act_{ACCOUNT}":
            return self._no_object(request)
        rows = [{"id": key, "name": value["name"]} for key, value in sorted(self.audiences.items())]
        return self._page(request, rows, key=lambda row: row["id"], fields=None)

    async def _create_audience(self, request: Request) -> Response:
        if request.path_params["node"] != f"act_{ACCOUNT}":
            return self._no_object(request)
        form = await _form(request)
        try:
            audience = self.check.new_audience(form)
        except Refused as exc:
            return self.error(400, exc.code, str(exc))
        audience_id = f"2385{next(self._ids):010d}"
        self.audiences[audience_id] = audience
        return JSONResponse({"id": audience_id})

    async def _users(self, request: Request) -> Response:
        audience = self.audiences.get(request.path_params["node"])
        if audience is None:
            return self._no_object(request)
        form = await _form(request)
        try:
            rows = self.check.upload(audience, form)
        except Refused as exc:
            return self.error(400, exc.code, str(exc))
        members: set[Member] = audience["members"]
        if request.method == "POST":
            members.update(rows)
        else:  # Meta removes whoever the row matches: all its given keys
            members.difference_update({m for m in members if any(row <= m for row in rows)})
        session = json.loads(form.get("session") or "{}")
        return JSONResponse(
            {
                "audience_id": request.path_params["node"],
                "session_id": str(session.get("session_id", next(self._ids))),
                "num_received": len(rows),
                "num_invalid_entries": 0,
                "invalid_entry_samples": {},
            }
        )

    def _page(
        self,
        request: Request,
        rows: list[dict[str, Any]],
        *,
        key: Any,
        fields: tuple[str, ...] | None,
    ) -> Response:
        try:
            page, paging = page_of(request, rows, key=key, default_limit=_DEFAULT_LIMIT)
        except Refused as exc:
            return self.error(400, "100", str(exc))
        data = [
            {name: row[name] for name in ("id", *fields) if name in row} if fields else row
            for row in page
        ]
        return JSONResponse({"data": data, **({"paging": paging} if paging else {})})

    def _no_object(self, request: Request) -> Response:
        node = request.path_params["node"]
        return self.error(
            400,
            "100/33",
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
        )


def _newest_first(lead: Lead) -> list[int]:
    return [-_epoch(lead), -int(lead["id"])]


def _proof(app_secret: str, token: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, as the Graph API takes POST parameters."""
    return {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}


def _epoch(lead: Lead) -> int:
    return int(datetime.strptime(lead["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _fields(request: Request, *, default: tuple[str, ...]) -> tuple[str, ...]:
    asked = request.query_params.get("fields")
    return tuple(name.strip() for name in asked.split(",")) if asked else default


def _time_filter(text: str | None) -> int | None:
    """The ``time_created`` lower bound of a leads ``filtering`` parameter."""
    if text is None:
        return None
    try:
        rules = json.loads(text)
        [rule] = rules
        field, operator, value = rule["field"], rule["operator"], int(rule["value"])
    except (ValueError, TypeError, KeyError):
        raise Refused(
            "100", "(#100) filtering must be a JSON list of {field, operator, value}"
        ) from None
    if field != "time_created" or operator != "GREATER_THAN":
        raise Refused("100", f"(#100) filtering on {field} {operator} is not supported here")
    return value
