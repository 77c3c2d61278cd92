"""The Graph API over HTTP: typed calls; limits, retries and errors are the ApiClient's.

Meta reports every failure as an error object whose ``code`` says more than
the HTTP status (throttling comes as a 400 with code 4, 17, 32, 613 or a
business use case's 800xx; an expired token as a 400 with code 190), so the
policy table is keyed on those codes. The token travels as the
``access_token`` parameter, which the shared redactor masks by name, with
``appsecret_proof`` (HMAC-SHA256 of the token keyed with the app secret) when
the app secret is configured, as apps that "require app secret" demand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Generator, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.meta.config import MetaConfig
from connectors.meta.mapping import LEAD_FIELDS
from hub.http import (
    DEFAULT_POLICY,
    Action,
    ApiClient,
    Clock,
    MetaUsage,
    QueryAuth,
    Rule,
    SecretAuth,
    cursor_pages,
)

__all__ = ["META_POLICY", "GraphAuth", "MetaClient", "graph_code"]

Row = dict[str, Any]

_THROTTLED = Rule(
    Action.BACKOFF,
    "Meta is throttling this app or ad account (X-App-Usage / X-Business-Use-Case-Usage); "
    "the run resumes from its last checkpoint",
)
_TOKEN = Rule(
    Action.FATAL_AUTH,
    "the Meta access token is missing, expired or revoked: issue a new system-user token "
    "(Business Settings > System users) and update access_token in this connection's config",
)
_PERMISSION = Rule(
    Action.FATAL_AUTH,
    "the system user lacks a permission this sync needs (leads_retrieval, ads_read, "
    "ads_management) or access to the page, form or ad account",
)


def graph_code(response: httpx.Response) -> str | None:
    """Meta's ``error.code`` as a string, for the policy table."""
    error = response.json().get("error")
    return str(error["code"]) if isinstance(error, dict) and "code" in error else None


META_POLICY = DEFAULT_POLICY.extend(
    codes={
        **dict.fromkeys(("4", "17", "32", "613"), _THROTTLED),
        **{str(code): _THROTTLED for code in range(80000, 80015)},
        **dict.fromkeys(("102", "104", "190"), _TOKEN),
        **dict.fromkeys(("10", "200", "294"), _PERMISSION),
        **dict.fromkeys(("1", "2"), Rule(Action.RETRY)),
        "2635": Rule(
            Action.FATAL_CONFIG, "api_version is no longer served by Meta: pin a current version"
        ),
    },
    code_of=graph_code,
)


class GraphAuth(SecretAuth):
    """``access_token`` and, with an app secret, ``appsecret_proof``, added as each request goes."""

    def __init__(self, token: SecretStr, app_secret: SecretStr | None) -> None:
        self._token = QueryAuth("access_token", token)
        proof = None
        if app_secret is not None:
            key, message = app_secret.get_secret_value().encode(), token.get_secret_value().encode()
            proof = SecretStr(hmac.new(key, message, hashlib.sha256).hexdigest())
        self._proof = QueryAuth("appsecret_proof", proof) if proof else None

    def secrets(self) -> Sequence[SecretStr]:
        return (*self._token.secrets(), *(self._proof.secrets() if self._proof else ()))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for auth in (self._token, self._proof):
            if auth is not None:
                request = next(auth.auth_flow(request))
        yield request


class MetaClient:
    """One connection's Graph API client, paced by Meta's usage headers."""

    def __init__(
        self,
        config: MetaConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.page_size = config.page_size
        base = str(config.base_url).rstrip("/")
        self._api = ApiClient(
            f"{base}/{config.api_version}/",
            connection=connection,
            auth=GraphAuth(config.access_token, config.app_secret),
            limiter=MetaUsage(clock=clock),
            policy=META_POLICY,
            transport=transport,
        )

    def leads(
        self, form_id: str, *, created_after: int | None, after: str | None
    ) -> AsyncIterator[tuple[list[Row], str | None]]:
        """A form's leads, newest first, created after ``created_after`` (epoch seconds).

        Each item is a page and the ``after`` cursor of the page following it
        (None after the last: Meta leaves ``paging.next`` out there). A cursor
        is only valid with the filter it was issued under, so it is resent.
        """
        params: dict[str, str | int] = {"fields": LEAD_FIELDS, "limit": self.page_size}
        if created_after is not None:
            params["filtering"] = json.dumps(
                [{"field": "time_created", "operator": "GREATER_THAN", "value": created_after}]
            )
        return self._edge(f"{form_id}/leads", params, after)

    def insights(
        self, account_id: str, *, level: str, after: str | None
    ) -> AsyncIterator[tuple[list[Row], str | None]]:
        """Lifetime figures per campaign or ad set of the ad account."""
        fields = (
            f"{level}_id,{level}_name,campaign_name,account_currency,"
            "spend,impressions,clicks,actions,date_start"
        )
        params: dict[str, str | int] = {
            "level": level,
            "fields": fields,
            "date_preset": "maximum",
            "limit": self.page_size,
        }
        return self._edge(f"act_{account_id}/insights", params, after)

    async def find_audience(self, account_id: str, name: str) -> str | None:
        params: dict[str, str | int] = {"fields": "id,name", "limit": 500}
        async for rows, _ in self._edge(f"act_{account_id}/customaudiences", params, None):
            for row in rows:
                if row.get("name") == name:
                    return str(row["id"])
        return None

    async def create_audience(
        self, account_id: str, *, name: str, description: str, source: str
    ) -> str:
        form = {
            "name": name,
            "subtype": "CUSTOM",
            "description": description,
            "customer_file_source": source,
        }
        response = await self._api.post(f"act_{account_id}/customaudiences", data=form)
        return str(response.json()["id"])

    async def audience_users(
        self,
        audience_id: str,
        *,
        add: bool,
        schema: list[str],
        rows: list[list[str]],
        session: dict[str, Any] | None,
    ) -> Row:
        """Add (POST) or remove (DELETE) hashed rows; both are safe to resend."""
        form = {"payload": json.dumps({"schema": schema, "data": rows})}
        if session is not None:
            form["session"] = json.dumps(session)
        method = "POST" if add else "DELETE"
        response = await self._api.request(
            method, f"{audience_id}/users", data=form, safe_to_retry=True
        )
        return dict(response.json())

    def _edge(
        self, path: str, params: dict[str, str | int], after: str | None
    ) -> AsyncIterator[tuple[list[Row], str | None]]:
        async def fetch(cursor: str | None) -> httpx.Response:
            return await self._api.get(
                path, params={**params, **({"after": cursor} if cursor else {})}
            )

        return cursor_pages(
            fetch,
            items=lambda body: list(body.get("data") or []),
            next_cursor=_next_cursor,
            start=after,
        )

    async def aclose(self) -> None:
        await self._api.aclose()


def _next_cursor(body: Row) -> str | None:
    paging = body.get("paging") or {}
    if not paging.get("next"):
        return None
    return str(paging["cursors"]["after"])
