"""The Marketing API over HTTP: typed calls; limits, retries and errors are the ApiClient's.

Errors come as problem+json (``type``, ``title``, ``status``, ``detail``,
``instance``); the title names the case, so the error policy keys on it. The
two documented refusals of a member write, "Member Exists" (a POST of an
address already in the audience; this client only PUTs) and "Forgotten Email
Not Subscribed" (the address was permanently deleted and only the person can
re-subscribe), are the member's problem, not the run's: they go to dead
letters with the fix in words.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.mapping import Member
from hub.errors import RecordError
from hub.http import DEFAULT_POLICY, Action, ApiClient, BasicAuth, Clock, RateLimiter, Rule, bearer
from hub.http import offset_pages as _offset_pages

__all__ = ["POLICY", "MailchimpClient", "Pages", "problem_title"]

Pages = AsyncIterator[tuple[list[dict[str, Any]], int | None]]
"""Items of one page and the offset of the next (None after the last)."""

_FIELDS = "_links,members._links,campaigns._links,emails._links,segments._links"


def problem_title(response: httpx.Response) -> str | None:
    body = response.json()
    return str(body["title"]) if isinstance(body, dict) and body.get("title") else None


POLICY = DEFAULT_POLICY.extend(
    codes={
        "Forgotten Email Not Subscribed": Rule(
            Action.DEAD_LETTER,
            "the address was permanently deleted from the audience; only the person can "
            "subscribe again (through a Mailchimp signup form), so the hub does not re-add it",
        ),
        "Member In Compliance State": Rule(
            Action.DEAD_LETTER,
            "Mailchimp will not subscribe this address (unsubscribed, bounced or under "
            "compliance review); the person must re-subscribe through a signup form",
        ),
        "Member Exists": Rule(
            Action.DEAD_LETTER, "the address is already a member; an upsert (PUT) updates it"
        ),
    },
    code_of=problem_title,
)


class MailchimpClient:
    """One connection's client; requests go one at a time, well under the 10-connection cap."""

    def __init__(
        self,
        config: MailchimpConfig,
        *,
        connection: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.connection = connection
        self.list_id = config.list_id
        self.page_size = config.page_size
        auth = (
            BasicAuth("crmhub", config.api_key)
            if config.api_key is not None
            else bearer(config.access_token)  # type: ignore[arg-type]  # the config requires one
        )
        limiter = RateLimiter(clock=clock)
        self.clock = limiter.clock
        self._api = ApiClient(
            config.root,
            connection=connection,
            auth=auth,
            limiter=limiter,
            policy=POLICY,
            transport=transport,
        )
        # Batch results live at a pre-signed URL on another host: never send the key there.
        self._files = ApiClient(
            config.root,
            connection=connection,
            limiter=RateLimiter(clock=limiter.clock),
            transport=transport,
        )

    @property
    def members_path(self) -> str:
        return f"lists/{self.list_id}/members"

    def member_pages(self, *, since: str | None, offset: int) -> Pages:
        """Members changed at or after ``since``, oldest change first, from ``offset``."""
        params = {"sort_field": "last_changed", "sort_dir": "ASC"}
        if since:
            params["since_last_changed"] = since
        return self._collection(self.members_path, "members", params, offset)

    def campaign_pages(self, *, offset: int) -> Pages:
        """The audience's campaigns, oldest first."""
        params = {"list_id": self.list_id, "sort_field": "create_time", "sort_dir": "ASC"}
        return self._collection("campaigns", "campaigns", params, offset)

    def activity_pages(self, campaign_id: str, *, since: str | None, offset: int) -> Pages:
        """Each recipient's opens and clicks in one campaign, after ``since`` when given."""
        params = {"since": since} if since else {}
        return self._collection(f"reports/{campaign_id}/email-activity", "emails", params, offset)

    def _collection(self, path: str, key: str, params: dict[str, str], offset: int) -> Pages:
        """A list endpoint walked by ``count``/``offset``; its items are under ``key``."""

        async def fetch(at: int) -> httpx.Response:
            query = {**params, "count": self.page_size, "offset": at, "exclude_fields": _FIELDS}
            return await self._api.get(path, params=query)

        return _offset_pages(
            fetch,
            items=lambda body: list(body[key]),
            total=_total,
            page_size=self.page_size,
            start=offset,
        )

    async def report(self, campaign_id: str) -> dict[str, Any]:
        return dict((await self._api.get(f"reports/{campaign_id}")).json())

    async def member(self, subscriber_hash: str) -> Member | None:
        """The member, or None when the audience does not hold this address."""
        try:
            response = await self._api.get(f"{self.members_path}/{subscriber_hash}")
        except RecordError as exc:
            if _not_found(exc):
                return None
            raise
        return dict(response.json())

    async def put_member(self, subscriber_hash: str, body: Member) -> Member:
        """Create or update the member; PUT is idempotent, so a resend is safe."""
        response = await self._api.put(f"{self.members_path}/{subscriber_hash}", json=body)
        return dict(response.json())

    async def set_tags(self, subscriber_hash: str, tags: list[dict[str, str]]) -> None:
        """Activate or deactivate tags (204); a tag that does not exist yet is created."""
        await self._api.post(
            f"{self.members_path}/{subscriber_hash}/tags",
            json={"tags": tags, "is_syncing": True},
            safe_to_retry=True,
        )

    def static_segment_pages(self) -> Pages:
        """The audience's static segments (tags are static segments too), by id."""
        return self._collection(f"lists/{self.list_id}/segments", "segments", {"type": "static"}, 0)

    async def create_static_segment(self, name: str) -> dict[str, Any]:
        """An empty static segment; POST is not idempotent, so a failure is not resent."""
        response = await self._api.post(
            f"lists/{self.list_id}/segments", json={"name": name, "static_segment": []}
        )
        return dict(response.json())

    async def update_static_segment(
        self, segment_id: int, add: list[str], remove: list[str]
    ) -> dict[str, Any]:
        """Batch add and remove members by address (at most 500 of each); adding a member
        twice or removing an absent one changes nothing, so a resend is safe."""
        response = await self._api.post(
            f"lists/{self.list_id}/segments/{segment_id}",
            json={"members_to_add": add, "members_to_remove": remove},
            safe_to_retry=True,
        )
        return dict(response.json())

    async def delete_permanently(self, subscriber_hash: str) -> None:
        """Erase the member and their history; a member already gone is erased, not an error."""
        try:
            await self._api.post(
                f"{self.members_path}/{subscriber_hash}/actions/delete-permanent",
                safe_to_retry=True,
            )
        except RecordError as exc:
            if not _not_found(exc):
                raise

    async def start_batch(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        response = await self._api.post("batches", json={"operations": operations})
        return dict(response.json())

    async def batch(self, batch_id: str) -> dict[str, Any]:
        return dict((await self._api.get(f"batches/{batch_id}")).json())

    async def download(self, url: str) -> bytes:
        """The batch results archive, without credentials (it is a pre-signed URL)."""
        return (await self._files.get(url, headers={"Accept": "*/*"})).content

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._files.aclose()


def _total(body: Any) -> int | None:
    total = body.get("total_items") if isinstance(body, dict) else None
    return int(total) if isinstance(total, int) else None


def _not_found(exc: RecordError) -> bool:
    """A 404: the policy makes it a RecordError whose message carries the status."""
    return "-> HTTP 404" in str(exc)
