"""Writing customers and segment tags to Shopify, one change at a time.

Consent and tags have mutations of their own: ``customerUpdate`` refuses
consent changes, and setting ``tags`` there would replace tags other apps
and the shop's staff added. So an update sends the profile, then only the
consent and tag differences; tags that carry hub segments (the
``segment_tag_prefix``) are left alone by customer writes and set by the
``segment_members`` stream instead.

Recommendations go to the customer metafields the connection names: the
changed ones in one ``metafieldsSet`` (text, ``single_line_text_field``),
the emptied ones removed with one ``metafieldsDelete``. The customer
mutations answer with those metafields (free: a mutation costs 10 points
whatever it selects), so only differences are sent. Both are idempotent, so
a resent change does no harm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.mapping import consent_input, customer_input, metafield_values
from hub.connector import Change, WriteResult
from hub.errors import RecordError
from hub.model import Channel, Customer, SegmentMembership

__all__ = ["CustomerWriter"]

Json = dict[str, Any]
_CONSENT = {
    Channel.EMAIL: ("emailMarketingConsent", "email", "customerEmailMarketingConsentUpdate"),
    Channel.SMS: ("smsMarketingConsent", "sms", "customerSmsMarketingConsentUpdate"),
}
_GONE = ("Customer can't be found", "Customer does not exist")
TEXT = "single_line_text_field"


def _refused(errors: list[Json]) -> str:
    return "; ".join(
        f"{'.'.join(error.get('field') or []) or 'customer'}: {error['message']}"
        for error in errors
    )


class CustomerWriter:
    def __init__(
        self,
        client: ShopifyClient,
        segment_prefix: str,
        metafields: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.prefix = segment_prefix
        self.metafields = dict(metafields or {})
        self.documents = queries.customer_mutations(queries.customer_fields(list(self.metafields)))
        """Each answers with the customer's metafields too: what a write must change."""

    async def _mutate(
        self, document: str, variables: Json, name: str, *, retry: bool = True
    ) -> Json:
        payload = (await self.client.execute(document, variables, retry=retry))[name]
        if payload["userErrors"]:
            raise RecordError(_refused(payload["userErrors"]))
        return dict(payload)

    async def customer(self, change: Change) -> WriteResult:
        try:
            if change.op == "delete":
                return await self._delete(change)
            record = change.record
            assert isinstance(record, Customer)
            written = await self._upsert(change.external_id, record)
            await self._set_metafields(written, record)
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=f"shopify: {exc}")
        return WriteResult(change.hub_id, str(written["id"]), written=written)

    async def _delete(self, change: Change) -> WriteResult:
        if change.external_id:
            payload = (
                await self.client.execute(
                    queries.CUSTOMER_DELETE, {"input": {"id": change.external_id}}
                )
            )["customerDelete"]
            errors = [e for e in payload["userErrors"] if e["message"] not in _GONE]
            if errors:
                raise RecordError(_refused(errors))
        return WriteResult(change.hub_id, change.external_id)

    async def _upsert(self, external_id: str | None, record: Customer) -> Json:
        profile = customer_input(record)
        if external_id is None:
            created = await self._create(profile, record)
            if created is not None:
                return created
            external_id = await self._find(record)
        payload = await self._mutate(
            self.documents["update"], {"input": {"id": external_id, **profile}}, "customerUpdate"
        )
        customer: Json = payload["customer"]
        for channel, (key, kind, name) in _CONSENT.items():
            wanted = consent_input(record, channel)
            held = customer.get(key) or {}
            if wanted and wanted["marketingState"] != held.get("marketingState"):
                variables = {"input": {"customerId": external_id, key: wanted}}
                answer = await self._mutate(self.documents[kind], variables, name)
                customer = answer["customer"]
        return await self._retag(customer, set(record.tags))

    async def _create(self, profile: Json, record: Customer) -> Json | None:
        """The new customer, or None when one with this e-mail exists already."""
        given = {**profile, "tags": list(record.tags)}
        for channel, (key, _, _) in _CONSENT.items():
            consent = consent_input(record, channel)
            if consent and (
                (channel is Channel.EMAIL and record.emails)
                or (channel is Channel.SMS and record.phones)
            ):
                given[key] = consent
        payload = (
            await self.client.execute(self.documents["create"], {"input": given}, retry=False)
        )["customerCreate"]
        errors = payload["userErrors"]
        if any(e["message"] == "Email has already been taken" for e in errors):
            return None
        if errors:
            raise RecordError(_refused(errors))
        return dict(payload["customer"])

    async def _find(self, record: Customer) -> str:
        email = record.primary_email
        found = await self.client.execute(queries.CUSTOMER_BY_EMAIL, {"query": f"email:{email}"})
        edges = found["customers"]["edges"]
        if not edges:
            raise RecordError(f"email: Email has already been taken, but no customer has {email}")
        return str(edges[0]["node"]["id"])

    async def _retag(self, customer: Json, wanted: set[str]) -> Json:
        held = set(customer.get("tags") or [])
        add = sorted(wanted - held)
        remove = sorted(tag for tag in held - wanted if not tag.startswith(self.prefix))
        if add:
            await self._mutate(queries.TAGS_ADD, {"id": customer["id"], "tags": add}, "tagsAdd")
        if remove:
            await self._mutate(
                queries.TAGS_REMOVE, {"id": customer["id"], "tags": remove}, "tagsRemove"
            )
        return {**customer, "tags": sorted((held | set(add)) - set(remove))}

    async def _set_metafields(self, customer: Json, record: Customer) -> None:
        """The configured metafields as the record's recommendations: the changed ones set,
        the emptied ones deleted, nothing sent for those the customer holds already."""
        if not self.metafields:
            return
        customer_id = str(customer["id"])
        held = {
            f"{field['namespace']}.{field['key']}": field["value"]
            for field in (customer.get("metafields") or {}).get("nodes") or []
        }
        values = metafield_values(record, self.metafields)
        present = [
            {"ownerId": customer_id, "namespace": space, "key": key, "type": TEXT, "value": value}
            for space, key, value in _split(values)
            if value is not None and held.get(f"{space}.{key}") != value
        ]
        absent = [
            {"ownerId": customer_id, "namespace": space, "key": key}
            for space, key, value in _split(values)
            if value is None and f"{space}.{key}" in held
        ]
        if present:
            await self._mutate(queries.METAFIELDS_SET, {"metafields": present}, "metafieldsSet")
        if absent:
            await self._mutate(
                queries.METAFIELDS_DELETE, {"metafields": absent}, "metafieldsDelete"
            )

    async def membership(self, change: Change) -> WriteResult:
        """A segment as the customer tag ``<prefix><segment>``, added or removed."""
        record = change.record
        assert isinstance(record, SegmentMembership)
        try:
            customer_id = change.external_id or await self._find(record.customer)
            tag = f"{self.prefix}{record.segment}"
            document, name = (
                (queries.TAGS_ADD, "tagsAdd")
                if record.member
                else (queries.TAGS_REMOVE, "tagsRemove")
            )
            await self._mutate(document, {"id": customer_id, "tags": [tag]}, name)
        except RecordError as exc:
            return WriteResult(change.hub_id, change.external_id, error=f"shopify: {exc}")
        return WriteResult(change.hub_id, customer_id)


def _split(values: Mapping[str, str | None]) -> list[tuple[str, str, str | None]]:
    """(namespace, key, value): ``namespace.key`` cut at its dot (the config allows one)."""
    return [
        (space, key, value)
        for name, value in values.items()
        for space, _, key in [name.partition(".")]
    ]
