"""The sandbox audience's webhooks: registration, and deliveries as Mailchimp sends them.

No vendor material covers webhooks (tests/fixtures/vendor/mailchimp says so);
this follows Mailchimp's public webhook guide and API reference:

- ``POST /lists/{list_id}/webhooks`` registers ``url`` with ``events``
  (subscribe, unsubscribe, profile, cleaned, upemail, campaign) and
  ``sources`` (user, admin, api); Mailchimp checks the URL with a GET, and
  here that GET is sent before the first delivery to it. API-made changes
  are only sent when ``sources.api`` is on (off by default, so a sync's own
  writes do not come back as deliveries).
- A delivery is a POST of ``application/x-www-form-urlencoded`` fields:
  ``type``, ``fired_at`` (``YYYY-MM-DD HH:MM:SS``, UTC, no zone) and
  ``data[...]`` with nested keys (``data[merges][FNAME]``). It is unsigned
  and carries no id; the secret is whatever token the registered URL holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

__all__ = ["EVENTS", "HookRefused", "Webhooks"]

EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SOURCES = ("user", "admin", "api")


class HookRefused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title = status, title


@dataclass
class _Hook:
    id: str
    url: str
    events: dict[str, bool]
    sources: dict[str, bool]
    validated: bool = False
    pending: list[bytes] = field(default_factory=list)


class Webhooks:
    def __init__(self, list_id: str) -> None:
        self.list_id = list_id
        self.hooks: dict[str, _Hook] = {}
        self.sent: list[tuple[str, str, int]] = []
        """(method, url, status) of every request sent, validation GETs included."""
        self._ids = itertools.count(1)

    def register(self, body: Mapping[str, Any]) -> dict[str, Any]:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise HookRefused(400, "Invalid Resource", "The webhook url must be a valid URL.")
        events = {e: bool((body.get("events") or {}).get(e, True)) for e in EVENTS}
        defaults = {"user": True, "admin": True, "api": False}
        sources = {s: bool((body.get("sources") or {}).get(s, defaults[s])) for s in SOURCES}
        hook = _Hook(f"{next(self._ids):010x}", url, events, sources)
        self.hooks[hook.id] = hook
        return self.view(hook)

    def view(self, hook: _Hook) -> dict[str, Any]:
        return {
            "id": hook.id,
            "url": hook.url,
            "events": hook.events,
            "sources": hook.sources,
            "list_id": self.list_id,
            "_links": [],
        }

    def fired(self, kind: str, source: str, fired_at: str, data: Mapping[str, Any]) -> None:
        """Queue one event for every hook that takes its type from its source."""
        fields = {"type": kind, "fired_at": fired_at, **_flat({"data": data})}
        body = urlencode(fields).encode()
        for hook in self.hooks.values():
            if hook.events.get(kind) and hook.sources.get(source):
                hook.pending.append(body)

    async def deliver(self, transport: httpx.AsyncBaseTransport | None = None) -> list[int]:
        """Send what is queued, as Mailchimp does; a failed delivery stays queued."""
        statuses = []
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
            for hook in self.hooks.values():
                if not hook.validated:
                    status = await _send(client, "GET", hook.url, None)
                    self.sent.append(("GET", hook.url, status))
                    hook.validated = 200 <= status < 300
                    if not hook.validated:
                        continue
                left = []
                for body in hook.pending:
                    status = await _send(client, "POST", hook.url, body)
                    self.sent.append(("POST", hook.url, status))
                    statuses.append(status)
                    if not 200 <= status < 300:
                        left.append(body)
                hook.pending = left
        return statuses


async def _send(client: httpx.AsyncClient, method: str, url: str, body: bytes | None) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    try:
        response = await client.request(method, url, content=body, headers=headers)
    except httpx.HTTPError:
        return 0
    return response.status_code


def _flat(node: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"data": {"merges": {"FNAME": "Ann"}}}`` -> ``{"data[merges][FNAME]": "Ann"}``."""
    flat: dict[str, str] = {}
    for key, value in node.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            flat |= _flat(value, name)
        else:
            flat[name] = "" if value is None else str(value)
    return flat
