"""Writing members: upsert, then the follow-ups a PUT cannot carry, alone or in batches.

A PUT sets merge fields, language and (for an opt-out) status; Mailchimp
keeps tags apart, and an existing transactional contact who opted in
elsewhere needs a second PUT with ``status: subscribed``. Those follow-ups
depend on what the PUT answered, so a batched push runs in two or three
rounds: (existence checks, when new people without consent are skipped),
upserts, follow-ups. Every record gets the first error any of its operations
met, in Mailchimp's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.mailchimp.batching import Operation, OperationResult, run_operations
from connectors.mailchimp.client import MailchimpClient
from connectors.mailchimp.config import MailchimpConfig
from connectors.mailchimp.mapping import Member, mailchimp_time, subscriber_hash, tag_changes
from hub.connector import Change, RawRecord, WriteResult
from hub.errors import RecordError
from hub.model import CanonicalRecord, Channel, ConsentStatus, Customer, SegmentMembership

__all__ = ["MemberWriter"]

ToBody = Callable[[str, CanonicalRecord], RawRecord]


@dataclass
class _Upsert:
    change: Change
    hashed: str
    body: Member
    error: str | None = None
    member: Member | None = None
    skipped: bool = False
    follow_ups: list[Operation] = field(default_factory=list)


class MemberWriter:
    def __init__(self, client: MailchimpClient, config: MailchimpConfig) -> None:
        self.client = client
        self.config = config

    async def write(self, changes: list[Change], to_body: ToBody) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        upserts: dict[int, _Upsert] = {}
        for index, change in enumerate(changes):
            if change.op == "delete":
                results[index] = await self._erase(change)
                continue
            try:
                email = _address_of(change)
                body = {**to_body("customers", change.record), "email_address": email}
                upserts[index] = _Upsert(change, subscriber_hash(email), body)
            except (ValueError, RecordError) as exc:
                results[index] = WriteResult(change.hub_id, change.external_id, error=str(exc))
        if len(upserts) > self.config.batch_threshold:
            await self._batched(list(upserts.values()))
        else:
            for upsert in upserts.values():
                await self._one(upsert)
        results |= {index: _result(upsert) for index, upsert in upserts.items()}
        return [results[index] for index in range(len(changes))]

    async def _one(self, upsert: _Upsert) -> None:
        try:
            unknown = _skips_new(upsert) and upsert.change.external_id is None
            if unknown and await self.client.member(upsert.hashed) is None:
                upsert.skipped = True
                return
            member = await self.client.put_member(upsert.hashed, _sendable(upsert.body))
            for operation in _follow_ups(upsert, member):
                if operation.path.endswith("/tags"):
                    await self.client.set_tags(upsert.hashed, list((operation.body or {})["tags"]))
                else:
                    member = await self.client.put_member(upsert.hashed, dict(operation.body or {}))
            upsert.member = member
        except RecordError as exc:
            upsert.error = str(exc)

    async def _batched(self, upserts: list[_Upsert]) -> None:
        path = self.client.members_path
        unknown = [u for u in upserts if _skips_new(u) and u.change.external_id is None]
        found = await self._run([Operation("GET", f"{path}/{u.hashed}") for u in unknown])
        for upsert, result in zip(unknown, found, strict=True):
            upsert.skipped = result.status == 404
        todo = [u for u in upserts if not u.skipped]
        answers = await self._run(
            [Operation("PUT", f"{path}/{u.hashed}", _sendable(u.body)) for u in todo]
        )
        follow: list[tuple[_Upsert, Operation]] = []
        for upsert, answer in zip(todo, answers, strict=True):
            if not answer.ok:
                upsert.error = answer.problem()
                continue
            upsert.member = dict(answer.body)
            follow += [(upsert, op) for op in _follow_ups(upsert, upsert.member)]
        for (upsert, _), answer in zip(
            follow, await self._run([op for _, op in follow]), strict=True
        ):
            if not answer.ok and upsert.error is None:
                upsert.error = answer.problem()
            elif answer.ok and isinstance(answer.body, dict) and "status" in answer.body:
                upsert.member = dict(answer.body)

    async def _run(self, operations: list[Operation]) -> list[OperationResult]:
        if not operations:
            return []
        return await run_operations(
            self.client,
            operations,
            clock=self.client.clock,
            poll_seconds=self.config.batch_poll_seconds,
            timeout_seconds=self.config.batch_timeout_seconds,
        )

    async def _erase(self, change: Change) -> WriteResult:
        email = change.record.primary_email if isinstance(change.record, Customer) else None
        hashed = change.external_id or (subscriber_hash(email) if email else None)
        if hashed is None:
            return WriteResult(change.hub_id, None)  # never reached Mailchimp: nothing to erase
        try:
            await self.client.delete_permanently(hashed)
        except RecordError as exc:
            return WriteResult(change.hub_id, hashed, error=str(exc))
        return WriteResult(change.hub_id, hashed)

    async def segment_tag(self, change: Change) -> WriteResult:
        """A hub segment as a member tag of the same name, active or inactive."""
        membership = change.record
        if not isinstance(membership, SegmentMembership) or not membership.customer.primary_email:
            return WriteResult(
                change.hub_id, None, error="a segment membership needs the person's e-mail"
            )
        hashed = subscriber_hash(membership.customer.primary_email)
        status = "active" if membership.member else "inactive"
        try:
            await self.client.set_tags(hashed, [{"name": membership.segment, "status": status}])
        except RecordError as exc:
            if "-> HTTP 404" in str(exc) and not membership.member:
                return WriteResult(change.hub_id, hashed)  # not in the audience: not tagged either
            return WriteResult(change.hub_id, hashed, error=str(exc))
        return WriteResult(change.hub_id, hashed)


def _customer(change: Change) -> Customer:
    if not isinstance(change.record, Customer):
        raise ValueError(f"customers takes Customer records, not {type(change.record).__name__}")
    return change.record


def _address_of(change: Change) -> str:
    """The member's address: the one the linked member has, if the person still has it.

    A person may have several addresses and a member has one; writing the
    primary would create a second member (and carry one address's consent
    to another), so a linked member keeps the address it was linked by.
    """
    customer = _customer(change)
    for email in customer.emails:
        if change.external_id and subscriber_hash(email) == change.external_id:
            return email
    if not customer.primary_email:
        raise ValueError("a member needs an e-mail address")
    return customer.primary_email


def _skips_new(upsert: _Upsert) -> bool:
    return "status_if_new" in upsert.body and upsert.body["status_if_new"] is None


def _sendable(body: Member) -> Member:
    return {key: value for key, value in body.items() if value is not None}


def _follow_ups(upsert: _Upsert, member: Member) -> list[Operation]:
    """What the PUT could not do: an opt-in for a transactional contact, the tags."""
    customer = _customer(upsert.change)
    path = f"lists/{member.get('list_id', '')}/members/{upsert.hashed}"
    operations = []
    consent = customer.consents.get(Channel.EMAIL)
    if (
        consent is not None
        and consent.status is ConsentStatus.SUBSCRIBED
        and consent.recorded_at is not None
        and member.get("status") == "transactional"
    ):
        upgrade = {
            "email_address": member["email_address"],
            "status": "subscribed",
            "timestamp_opt": mailchimp_time(consent.recorded_at),
        }
        operations.append(Operation("PUT", path, upgrade))
    held = [str(tag.get("name")) for tag in member.get("tags") or []]
    tags = tag_changes(list(customer.tags), held)
    if tags:
        operations.append(Operation("POST", f"{path}/tags", {"tags": tags, "is_syncing": True}))
        member["tags"] = [{"name": name} for name in customer.tags]
    return operations


def _result(upsert: _Upsert) -> WriteResult:
    hub_id = upsert.change.hub_id
    if upsert.error is not None:
        return WriteResult(hub_id, upsert.change.external_id or upsert.hashed, error=upsert.error)
    if upsert.skipped:
        return WriteResult(hub_id, None)  # a new person without consent, not added (see config)
    written: dict[str, Any] | None = upsert.member
    return WriteResult(hub_id, upsert.hashed, written=written)
