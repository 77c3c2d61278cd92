"""A local emulator of the Mailchimp Marketing API 3.0: one audience, its campaigns, batches.

What it follows, from the recorded responses in tests/fixtures/vendor/mailchimp
(Airbyte's MIT-licensed captures of a live account) and Mailchimp's public
reference (no licence-clean copy of the spec exists, so only facts are used):

- Paths under ``/3.0/``; HTTP Basic auth with any user name and the API key as
  password, or ``Authorization: Bearer`` with an OAuth token. A missing key is
  401 "API Key Missing", a wrong one 401 "API Key Invalid".
- Errors are ``application/problem+json``: ``type``, ``title``, ``status``,
  ``detail``, ``instance``.
- Lists page with ``count`` (default 10, at most 1000) and ``offset`` and report
  ``total_items``; ``exclude_fields`` drops dotted paths (``members._links``).
- ``GET /lists/{id}/members`` filters with ``since_last_changed`` (read as "at
  or after", to the second) and sorts with ``sort_field=last_changed``.
- Times are ISO 8601 to the second with ``+00:00``; unset strings are ``""``.
- Merge fields are those of a new audience (``GET /lists/{id}/merge-fields``):
  BIRTHDAY is of Mailchimp's birthday type and takes ``MM/DD``; a field of
  type date takes ``YYYY-MM-DD``; an unknown tag is refused.
- A member's id is the MD5 of the lower-cased e-mail. PUT upserts; its
  ``status_if_new`` applies only when the member is new. A cleaned address
  cannot become subscribed or pending, and an unsubscribed member cannot be
  set to subscribed (send ``pending`` to ask for confirmation): both are 400
  "Member In Compliance State". POST of an existing address is 400 "Member
  Exists"; a permanently deleted address can only come back by the person's
  own signup: 400 "Forgotten Email Not Subscribed".
- More than 10 requests in flight at once: 429 "Too Many Requests".
- Webhooks (registration, the validation GET, form-encoded deliveries of
  member and campaign events): see :mod:`connectors.mailchimp.sandbox_webhooks`.
- Batches: see :mod:`connectors.mailchimp.sandbox_batches`; static segments
  (create, list, batch add/remove of at most 500 addresses each): see
  :mod:`connectors.mailchimp.sandbox_segments`.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.mailchimp.mapping import Member, mailchimp_time, subscriber_hash
from connectors.mailchimp.sandbox_batches import RESULTS_PATH, Batch, results_archive, run_batch
from connectors.mailchimp.sandbox_data import campaign_body, member_body, report_body
from connectors.mailchimp.sandbox_segments import SegmentRefused, StaticSegments
from connectors.mailchimp.sandbox_webhooks import HookRefused, Webhooks
from hub.http import Clock
from hub.testing.fake import fake_people
from hub.testing.sandbox import Sandbox

__all__ = ["API_KEY", "LIST_ID", "MAX_CONNECTIONS", "MailchimpSandbox"]

API_KEY = "0123456789abcdef0123456789abcdef-us21"
LIST_ID = "16d6ec4ffc"
ROOT = "/3.0"
MAX_CONNECTIONS = 10
MERGE_TYPES = {
    "FNAME": "text",
    "LNAME": "text",
    "ADDRESS": "address",
    "PHONE": "phone",
    "BIRTHDAY": "birthday",
}
"""The merge fields of a new audience and their types (BIRTHDAY keeps MM/DD, no year)."""
STATUSES = frozenset({"subscribed", "unsubscribed", "cleaned", "pending", "transactional"})
_TITLES = {
    "not_found": "Resource Not Found",
    "method_not_allowed": "Method Not Allowed",
    "rate_limited": "Too Many Requests",
    "server_error": "Internal Server Error",
    "token_expired": "API Key Invalid",
}
_ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"


class _Refused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title = status, title


class MailchimpSandbox(Sandbox):
    """One audience in memory behind the Marketing API's paths, rules and limits."""

    def __init__(self, *, clock: Clock | None = None, batch_seconds: float = 1.0) -> None:
        super().__init__(clock=clock)
        self.keys = {API_KEY}
        self.tokens: set[str] = set()
        self.members: dict[str, Member] = {}
        self.forgotten: set[str] = set()
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.activity: dict[str, list[dict[str, Any]]] = {}
        self.batches: dict[str, Batch] = {}
        self.webhooks = Webhooks(LIST_ID)
        self.merge_types = dict(MERGE_TYPES)
        """Merge tag -> type, as a new audience has them; tests may add fields."""
        self.static_segments = StaticSegments(
            LIST_ID, self.members, subscriber_hash, lambda: mailchimp_time(self.second())
        )
        self.batch_seconds = batch_seconds
        self.writes = 0
        """Requests that changed something: what "a second sync writes nothing" counts."""
        self.in_flight = 0
        self.refused_connections = 0
        self._numbers = itertools.count(1)
        self._last_second: datetime | None = None
        self._routes_app: ASGIApp = self.app.app  # type: ignore[attr-defined]
        self.app = _Connections(self, self.app)

    def routes(self) -> list[BaseRoute]:
        member = ROOT + "/lists/{list_id}/members/{subscriber_hash}"
        segments = ROOT + "/lists/{list_id}/segments"
        return [
            Route(ROOT + "/ping", self._ping, methods=["GET"]),
            Route(ROOT + "/lists/{list_id}/members", self._list_members, methods=["GET"]),
            Route(ROOT + "/lists/{list_id}/members", self._add_member, methods=["POST"]),
            Route(member, self._get_member, methods=["GET"]),
            Route(member, self._put_member, methods=["PUT"]),
            Route(member, self._patch_member, methods=["PATCH"]),
            Route(member + "/tags", self._tags, methods=["POST"]),
            Route(member + "/actions/delete-permanent", self._delete_permanent, methods=["POST"]),
            Route(ROOT + "/lists/{list_id}/merge-fields", self._merge_field_list, methods=["GET"]),
            Route(ROOT + "/lists/{list_id}/webhooks", self._add_webhook, methods=["POST"]),
            Route(ROOT + "/lists/{list_id}/webhooks", self._list_webhooks, methods=["GET"]),
            Route(segments, self._list_segments, methods=["GET"]),
            Route(segments, self._create_segment, methods=["POST"]),
            Route(segments + "/{segment_id}", self._update_segment, methods=["POST"]),
            Route(segments + "/{segment_id}/members", self._segment_members, methods=["GET"]),
            Route(ROOT + "/campaigns", self._list_campaigns, methods=["GET"]),
            Route(ROOT + "/reports/{campaign_id}", self._report, methods=["GET"]),
            Route(ROOT + "/reports/{campaign_id}/email-activity", self._activity, methods=["GET"]),
            Route(ROOT + "/batches", self._start_batch, methods=["POST"]),
            Route(ROOT + "/batches/{batch_id}", self._batch_status, methods=["GET"]),
            Route(RESULTS_PATH + "/{token}.tar.gz", self._batch_results, methods=["GET"]),
        ]

    # The vendor's edge.

    def error(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = {
            "type": _ERRORS_DOC,
            "title": _TITLES.get(code, code),
            "status": status,
            "detail": message,
            "instance": str(uuid.uuid4()),
        }
        return JSONResponse(
            body, status, dict(headers or {}), media_type="application/problem+json"
        )

    def authenticate(self, request: Request) -> Response | None:
        if request.url.path.startswith(RESULTS_PATH):
            return None  # a pre-signed URL: the token in the path is the credential
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                _, _, key = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                key = ""
            if key in self.keys:
                return None
        elif scheme.lower() == "bearer" and value in self.tokens:
            return None
        if not value:
            return self.error(401, "API Key Missing", "Your request did not include an API key.")
        return self.error(
            401,
            "API Key Invalid",
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        )

    def throttled(self, retry_after: float) -> Response:
        return self.error(
            429,
            "Too Many Requests",
            f"You have exceeded the limit of {MAX_CONNECTIONS} simultaneous connections.",
        )

    def config_for(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": f"{base_url}{ROOT}/",
            "api_key": "${MAILCHIMP_SANDBOX_KEY}",
            "list_id": LIST_ID,
        }

    def environment(self) -> dict[str, str]:
        return {"MAILCHIMP_SANDBOX_KEY": API_KEY}

    # State, as tests and the demo set it up.

    def second(self) -> datetime:
        """A change time: Mailchimp keeps seconds, and here a later change is never earlier."""
        now = self.now().replace(microsecond=0)
        if self._last_second is not None and now <= self._last_second:
            now = self._last_second + timedelta(seconds=1)
        self._last_second = now
        return now

    def populate(self, count: int, *, seed: int = 1) -> None:
        """An audience made from the same fake people as the other sandboxes and the sample shop.

        Those who gave marketing consent are subscribed, except every fifth,
        who has since unsubscribed here; those who did not are not in the
        audience at all. Changes share seconds in threes, as imports do.
        """
        for person in fake_people(count, seed=seed):
            if not person.email_consent:
                continue
            status = "unsubscribed" if person.number % 5 == 0 else "subscribed"
            moment = person.created_at.replace(second=0) - timedelta(minutes=person.number % 3 * 7)
            fields = {
                "FNAME": person.first_name,
                "LNAME": person.last_name,
                "PHONE": person.phone,
                "BIRTHDAY": person.birth_date.strftime("%m/%d"),
                "ADDRESS": {
                    "addr1": person.street,
                    "addr2": "",
                    "city": person.city,
                    "state": "",
                    "zip": person.postcode,
                    "country": person.country,
                },
            }
            self.add_member(
                person.email,
                status,
                fields,
                language=person.language,
                tags=["vip"] if person.number % 7 == 0 else [],
                changed=mailchimp_time(moment),
            )

    def add_member(
        self,
        email: str,
        status: str,
        merge_fields: Mapping[str, Any] | None = None,
        *,
        language: str = "",
        tags: list[str] | None = None,
        changed: str | None = None,
    ) -> Member:
        """Put a member straight into the audience, as a signup form or import would."""
        stamp = changed or mailchimp_time(self.second())
        member = member_body(
            email,
            status,
            dict(merge_fields or {}),
            list_id=LIST_ID,
            web_id=next(self._numbers),
            stamp=stamp,
            language=language,
        )
        self._set_tags(member, [{"name": t, "status": "active"} for t in tags or []])
        self.members[member["id"]] = member
        return member

    def set_status(self, email: str, status: str, *, by: str = "admin") -> Member:
        """A change made in Mailchimp (the person unsubscribes, an address bounces), by the
        person (``user``) or in the app (``admin``): webhooks hear of it."""
        member = self.members[subscriber_hash(email)]
        member["status"] = status
        member["last_changed"] = mailchimp_time(self.second())
        if status == "unsubscribed":
            member["unsubscribe_reason"] = (
                "N/A (Unsubscribed by admin)" if by == "admin" else "N/A (Unsubscribed)"
            )
        self._fire(member, by, status_changed=True)
        return member

    def _fire(self, member: Member, source: str, *, status_changed: bool) -> None:
        """The webhook event a member change makes, as Mailchimp's webhook guide shows them."""
        kind = (
            {"subscribed": "subscribe", "unsubscribed": "unsubscribe", "cleaned": "cleaned"}.get(
                member["status"]
            )
            if status_changed
            else "profile"
        )
        if kind is None:
            return
        data: dict[str, Any] = {
            "id": member["unique_email_id"],
            "list_id": LIST_ID,
            "email": member["email_address"],
            "email_type": member.get("email_type", "html"),
        }
        if kind == "cleaned":
            data |= {"campaign_id": "", "reason": "hard"}
        else:
            data["merges"] = {"EMAIL": member["email_address"], **member["merge_fields"]}
            data["ip_opt"] = member.get("ip_opt", "")
        if kind == "unsubscribe":
            data |= {"action": "unsub", "reason": "manual", "campaign_id": ""}
        fired = self.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        self.webhooks.fired(kind, source, fired, data)

    def add_campaign(self, title: str, *, sends: int, opens: int, clicks: int) -> dict[str, Any]:
        number = next(self._numbers)
        campaign_id = f"{number:010x}"
        sent = mailchimp_time(self.second())
        self.campaigns[campaign_id] = campaign_body(campaign_id, title, LIST_ID, number, sent)
        self.reports[campaign_id] = report_body(
            campaign_id, title, LIST_ID, sent, sends, opens, clicks
        )
        self.activity[campaign_id] = []
        return self.campaigns[campaign_id]

    def record_activity(self, campaign_id: str, email: str, action: str, **extra: str) -> None:
        """An open or click of a member, as the campaign report records it."""
        emails = self.activity[campaign_id]
        hashed = subscriber_hash(email)
        entry = next((e for e in emails if e["email_id"] == hashed), None)
        if entry is None:
            entry = {
                "campaign_id": campaign_id,
                "list_id": LIST_ID,
                "list_is_active": True,
                "email_id": hashed,
                "email_address": email,
                "activity": [],
            }
            emails.append(entry)
        entry["activity"].append(
            {"action": action, "timestamp": mailchimp_time(self.second()), **extra}
        )

    def records(self, stream: str) -> dict[str, Any]:
        """What the connector's streams read (``_links`` excluded), by the id it reports."""
        if stream == "customers":
            return {key: _exclude(m, "_links") for key, m in self.members.items()}
        if stream == "campaigns":
            return {
                cid: {**_exclude(c, "_links"), "report": self.reports[cid]}
                for cid, c in self.campaigns.items()
            }
        raise ValueError(f"the Mailchimp sandbox has no stream {stream!r}")

    def add_invalid(self, stream: str) -> str:
        """A member whose address no mapping accepts, as old imports have."""
        if stream != "customers":
            raise ValueError(f"the Mailchimp sandbox stores no invalid {stream!r}")
        member = self.add_member("ann@@example.com", "subscribed")
        return str(member["id"])

    def touch(self, stream: str, external_id: str) -> None:
        if stream == "campaigns":
            opens = self.reports[external_id]["opens"]  # a late reader opens the campaign
            opens["unique_opens"] += 1
            opens["opens_total"] += 1
            return
        if stream != "customers":
            raise ValueError(
                f"the Mailchimp sandbox changes customers and campaigns, not {stream!r}"
            )
        member = self.members[external_id]
        member["merge_fields"]["LNAME"] = f"{member['merge_fields'].get('LNAME', '')}-Edited"
        member["last_changed"] = mailchimp_time(self.second())

    # Routes.

    async def _ping(self, request: Request) -> Response:
        return JSONResponse({"health_status": "Everything's Chimpy!"})

    async def _list_members(self, request: Request) -> Response:
        query = request.query_params
        try:
            self._audience(request)
            count, offset = _paging(query)
            since = _time(query.get("since_last_changed"), "since_last_changed")
            rows = [
                m for m in self.members.values() if since is None or _at(m["last_changed"]) >= since
            ]
            if query.get("status"):
                rows = [m for m in rows if m["status"] == query["status"]]
            if query.get("sort_field") == "last_changed":
                rows.sort(
                    key=lambda m: (_at(m["last_changed"]), m["web_id"]),
                    reverse=query.get("sort_dir", "ASC").upper() == "DESC",
                )
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        body = {
            "members": rows[offset : offset + count],
            "list_id": LIST_ID,
            "total_items": len(rows),
            "_links": [],
        }
        return JSONResponse(_exclude(body, query.get("exclude_fields")))

    async def _get_member(self, request: Request) -> Response:
        try:
            member = self._member(request)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        return JSONResponse(_exclude(member, request.query_params.get("exclude_fields")))

    async def _add_member(self, request: Request) -> Response:
        try:
            self._audience(request)
            body = await _json(request)
            email = _email(body)
            if subscriber_hash(email) in self.members:
                raise _Refused(
                    400,
                    "Member Exists",
                    f"{email} is already a list member. Use PUT to insert or update list members.",
                )
            member = self._create(email, body, body.get("status"))
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        return JSONResponse(member)

    async def _put_member(self, request: Request) -> Response:
        try:
            self._audience(request)
            body = await _json(request)
            email = _email(body)
            hashed = request.path_params["subscriber_hash"].lower()
            if hashed not in (subscriber_hash(email), email.lower()):
                raise _Refused(
                    400, "Invalid Resource", "The subscriber hash does not match the email_address."
                )
            existing = self.members.get(subscriber_hash(email))
            if existing is None:
                member = self._create(email, body, body.get("status") or body.get("status_if_new"))
            else:
                member = self._update(existing, body)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        return JSONResponse(member)

    async def _patch_member(self, request: Request) -> Response:
        try:
            member = self._update(self._member(request), await _json(request))
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        return JSONResponse(member)

    async def _tags(self, request: Request) -> Response:
        try:
            member = self._member(request)
            tags = (await _json(request)).get("tags")
            if not isinstance(tags, list) or not all(
                isinstance(t, dict) and t.get("name") for t in tags
            ):
                raise _Refused(400, "Invalid Resource", "tags must be a list of {name, status}.")
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        if self._set_tags(member, tags):
            self.writes += 1
            member["last_changed"] = mailchimp_time(self.second())
        return Response(status_code=204)

    async def _delete_permanent(self, request: Request) -> Response:
        try:
            member = self._member(request)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        del self.members[member["id"]]
        self.forgotten.add(member["id"])
        self.writes += 1
        return Response(status_code=204)

    async def _merge_field_list(self, request: Request) -> Response:
        try:
            self._audience(request)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        fields = [
            {
                "merge_id": number,
                "tag": tag,
                "name": tag.title(),
                "type": kind,
                "required": False,
                "default_value": "",
                "public": True,
                "display_order": number + 1,
                "options": {"date_format": "MM/DD"} if kind == "birthday" else {},
                "list_id": LIST_ID,
            }
            for number, (tag, kind) in enumerate(self.merge_types.items(), 1)
        ]
        body = {"merge_fields": fields, "list_id": LIST_ID, "total_items": len(fields)}
        return JSONResponse(_exclude(body, request.query_params.get("exclude_fields")))

    async def _add_webhook(self, request: Request) -> Response:
        try:
            self._audience(request)
            hook = self.webhooks.register(await _json(request))
        except (_Refused, HookRefused) as exc:
            return self.error(exc.status, exc.title, str(exc))
        return JSONResponse(hook)

    async def _list_webhooks(self, request: Request) -> Response:
        try:
            self._audience(request)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        hooks = [self.webhooks.view(h) for h in self.webhooks.hooks.values()]
        return JSONResponse({"webhooks": hooks, "list_id": LIST_ID, "total_items": len(hooks)})

    async def _list_segments(self, request: Request) -> Response:
        query = request.query_params
        try:
            self._audience(request)
            count, offset = _paging(query)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        rows = self.static_segments.listed(query.get("type"))
        body = {
            "segments": rows[offset : offset + count],
            "list_id": LIST_ID,
            "total_items": len(rows),
            "_links": [],
        }
        return JSONResponse(_exclude(body, query.get("exclude_fields")))

    async def _create_segment(self, request: Request) -> Response:
        try:
            self._audience(request)
            segment = self.static_segments.create(await _json(request))
        except (_Refused, SegmentRefused) as exc:
            return self.error(exc.status, exc.title, str(exc))
        self.writes += 1
        return JSONResponse(segment)

    async def _update_segment(self, request: Request) -> Response:
        try:
            self._audience(request)
            answer, changed = self.static_segments.update(
                request.path_params["segment_id"], await _json(request)
            )
        except (_Refused, SegmentRefused) as exc:
            return self.error(exc.status, exc.title, str(exc))
        self.writes += changed
        return JSONResponse(answer)

    async def _segment_members(self, request: Request) -> Response:
        query = request.query_params
        try:
            self._audience(request)
            count, offset = _paging(query)
            rows = self.static_segments.member_views(request.path_params["segment_id"])
        except (_Refused, SegmentRefused) as exc:
            return self.error(exc.status, exc.title, str(exc))
        body = {"members": rows[offset : offset + count], "total_items": len(rows), "_links": []}
        return JSONResponse(_exclude(body, query.get("exclude_fields")))

    async def _list_campaigns(self, request: Request) -> Response:
        query = request.query_params
        try:
            count, offset = _paging(query)
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        rows = [
            c
            for c in self.campaigns.values()
            if not query.get("list_id") or c["recipients"]["list_id"] == query["list_id"]
        ]
        rows.sort(
            key=lambda c: c["create_time"], reverse=query.get("sort_dir", "ASC").upper() == "DESC"
        )
        body = {"campaigns": rows[offset : offset + count], "total_items": len(rows), "_links": []}
        return JSONResponse(_exclude(body, query.get("exclude_fields")))

    async def _report(self, request: Request) -> Response:
        report = self.reports.get(request.path_params["campaign_id"])
        if report is None:
            return self.error(404, "not_found", "The requested resource could not be found.")
        return JSONResponse(report)

    async def _activity(self, request: Request) -> Response:
        campaign_id, query = request.path_params["campaign_id"], request.query_params
        if campaign_id not in self.activity:
            return self.error(404, "not_found", "The requested resource could not be found.")
        try:
            count, offset = _paging(query)
            since = _time(query.get("since"), "since")
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        emails = []
        for entry in self.activity[campaign_id]:
            events = [e for e in entry["activity"] if since is None or _at(e["timestamp"]) > since]
            if events:
                emails.append({**entry, "activity": events})
        body = {
            "emails": emails[offset : offset + count],
            "campaign_id": campaign_id,
            "total_items": len(emails),
            "_links": [],
        }
        return JSONResponse(_exclude(body, query.get("exclude_fields")))

    async def _start_batch(self, request: Request) -> Response:
        try:
            operations = (await _json(request)).get("operations")
            if not isinstance(operations, list) or not operations:
                raise _Refused(400, "Invalid Resource", "operations must be a non-empty list.")
        except _Refused as exc:
            return self.error(exc.status, exc.title, str(exc))
        batch_id = f"{next(self._numbers):010x}"
        batch = Batch(batch_id, operations, self.now(), self.clock.monotonic())
        self.batches[batch_id] = batch
        return JSONResponse(batch.view(_origin(request), mailchimp_time(batch.submitted_at), None))

    async def _batch_status(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return self.error(404, "not_found", "The requested resource could not be found.")
        due = self.clock.monotonic() - batch.submitted_clock >= self.batch_seconds
        if batch.completed_at is None and due:
            await run_batch(batch, self._routes_app, ROOT)
            batch.completed_at = self.now()
        completed = mailchimp_time(batch.completed_at) if batch.completed_at else None
        return JSONResponse(
            batch.view(_origin(request), mailchimp_time(batch.submitted_at), completed)
        )

    async def _batch_results(self, request: Request) -> Response:
        token = request.path_params["token"]
        batch = next(
            (b for b in self.batches.values() if b.token == token and b.completed_at), None
        )
        if batch is None:
            return Response("NoSuchKey", status_code=404, media_type="application/xml")
        return Response(results_archive(batch), media_type="application/x-tar")

    # Member rules.

    def _audience(self, request: Request) -> None:
        if request.path_params["list_id"] != LIST_ID:
            raise _Refused(404, "Resource Not Found", "The requested resource could not be found.")

    def _member(self, request: Request) -> Member:
        self._audience(request)
        key = request.path_params["subscriber_hash"].lower()
        member = self.members.get(key) or self.members.get(subscriber_hash(key))
        if member is None:
            raise _Refused(404, "Resource Not Found", "The requested resource could not be found.")
        return member

    def _create(self, email: str, body: Member, status: Any) -> Member:
        if subscriber_hash(email) in self.forgotten:
            raise _Refused(
                400,
                "Forgotten Email Not Subscribed",
                f"{email} was permanently deleted and cannot be re-imported. "
                "The contact must re-subscribe to get back on the list.",
            )
        if status not in STATUSES:
            raise _Refused(
                400,
                "Invalid Resource",
                "The resource submitted could not be validated. For field-specific "
                "details, see the 'errors' array."
                if status
                else "status or status_if_new is required for a new member.",
            )
        member = self.add_member(email, str(status), _merge_fields(body, self.merge_types))
        self._apply(member, body, status=None)
        self.writes += 1
        self._fire(member, "api", status_changed=True)
        return member

    def _update(self, member: Member, body: Member) -> Member:
        before, status = json.dumps(member, sort_keys=True), member["status"]
        self._apply(member, body, status=body.get("status"))
        if json.dumps(member, sort_keys=True) != before:
            member["last_changed"] = mailchimp_time(self.second())
            self.writes += 1
            self._fire(member, "api", status_changed=member["status"] != status)
        return member

    def _apply(self, member: Member, body: Member, *, status: Any) -> None:
        if status is not None:
            _check_transition(member, str(status))
            member["status"] = status
        member["merge_fields"].update(_merge_fields(body, self.merge_types))
        for key in ("language", "vip", "timestamp_opt", "email_type"):
            if key in body:
                member[key] = body[key]
        if (
            body.get("email_address")
            and body["email_address"].lower() == member["email_address"].lower()
        ):
            member["email_address"] = body["email_address"]

    def _set_tags(self, member: Member, tags: list[dict[str, Any]]) -> bool:
        names = [t["name"] for t in member["tags"]]
        for tag in tags:
            if tag.get("status", "active") == "active" and tag["name"] not in names:
                names.append(tag["name"])
            elif tag.get("status") == "inactive" and tag["name"] in names:
                names.remove(tag["name"])
        changed = names != [t["name"] for t in member["tags"]]
        member["tags"] = [{"id": _tag_id(n), "name": n} for n in names]
        member["tags_count"] = len(names)
        return changed


class _Connections:
    """Mailchimp's cap of 10 simultaneous connections per account, counted before anything else."""

    def __init__(self, sandbox: MailchimpSandbox, app: ASGIApp) -> None:
        self.sandbox, self.app = sandbox, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sandbox = self.sandbox
        if scope["type"] == "http" and sandbox.in_flight >= MAX_CONNECTIONS:
            sandbox.refused_connections += 1
            await sandbox.throttled(0)(scope, receive, send)
            return
        sandbox.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            sandbox.in_flight -= 1


def _check_transition(member: Member, status: str) -> None:
    if status not in STATUSES:
        raise _Refused(400, "Invalid Resource", f"{status!r} is not a member status.")
    current, email = member["status"], member["email_address"]
    if status == current:
        return
    if (current == "cleaned" and status in ("subscribed", "pending")) or (
        current == "unsubscribed" and status == "subscribed"
    ):
        raise _Refused(
            400,
            "Member In Compliance State",
            f"{email} is in a compliance state due to unsubscribe, bounce, or "
            "compliance review and cannot be subscribed. Use status pending to send "
            "a confirmation e-mail."
            if current == "unsubscribed"
            else f"{email} is in a compliance state due to a bounce and cannot be subscribed.",
        )


def _merge_fields(body: Member, types: Mapping[str, str]) -> dict[str, Any]:
    fields = body.get("merge_fields") or {}
    if not isinstance(fields, dict):
        raise _Refused(400, "Invalid Resource", "merge_fields must be an object.")
    for tag, value in fields.items():
        kind = types.get(tag)
        if kind is None:
            raise _Refused(400, "Invalid Resource", f"Your merge fields were invalid: {tag}.")
        if value and kind == "date" and not _is_date(str(value), "%Y-%m-%d"):
            raise _Refused(
                400, "Invalid Resource", "Please enter the date in the format YYYY-MM-DD."
            )
        if value and kind == "birthday" and not _is_birthday(str(value)):
            raise _Refused(400, "Invalid Resource", "Please enter a complete birthday (MM/DD).")
        if (
            kind == "address"
            and isinstance(value, dict)
            and not all(value.get(k) for k in ("addr1", "city", "zip"))
        ):
            raise _Refused(400, "Invalid Resource", "Please enter a complete address.")
    return dict(fields)


def _is_date(text: str, form: str) -> bool:
    try:
        datetime.strptime(text, form)
    except ValueError:
        return False
    return True


def _is_birthday(text: str) -> bool:
    """``MM/DD``, any day a year can have (02/29 included)."""
    return len(text) == 5 and _is_date(f"2000/{text}", "%Y/%m/%d")


def _email(body: Member) -> str:
    email = body.get("email_address")
    if not isinstance(email, str) or email.count("@") != 1 or "." not in email.partition("@")[2]:
        raise _Refused(
            400,
            "Invalid Resource",
            f"{email!r} looks fake or invalid, please enter a real email address.",
        )
    return email


async def _json(request: Request) -> Member:
    try:
        body = await request.json()
    except ValueError:
        raise _Refused(
            400, "JSON Parse Error", "We encountered an unspecified JSON parsing error."
        ) from None
    if not isinstance(body, dict):
        raise _Refused(400, "JSON Parse Error", "The body must be a JSON object.")
    return body


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    count, offset = query.get("count", "10"), query.get("offset", "0")
    if not count.isdigit() or not offset.isdigit() or int(count) > 1000:
        raise _Refused(400, "Invalid Resource", "count must be 0-1000 and offset a whole number.")
    return int(count), int(offset)


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Refused(400, "Invalid Resource", f"{name} must be ISO 8601 with a time zone.")
    return moment


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _tag_id(name: str) -> int:
    return int(subscriber_hash(name)[:7], 16)


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _exclude(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """A copy without the dotted paths in ``fields``; a path through a list applies to each item."""
    result = copy.deepcopy(body)
    for path in filter(None, (fields or "").split(",")):
        _drop(result, path.strip().split("."))
    return result


def _drop(node: Any, path: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _drop(item, path)
    elif isinstance(node, dict) and path:
        if len(path) == 1:
            node.pop(path[0], None)
        elif path[0] in node:
            _drop(node[path[0]], path[1:])
