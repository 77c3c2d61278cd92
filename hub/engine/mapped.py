"""Mapping one record, and the mapped record as the engine's write path takes it.

This module imports nothing of the store: the mapping worker process
(:mod:`hub.engine.mapworker`) runs it with little more than the connector.

Customers are merged as canonical dicts parsed from their canonical JSON,
never as models, so a customer mapped in a worker process crosses over as
that JSON (:class:`CustomerJson`): sending the model back would cost more
than mapping it again (pickling a ``Customer`` and loading it costs about
one and a half times its validation). Records mapped in this process stay
:class:`~hub.connector.SourceRecord`; both kinds meet in one page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from hub.connector import Connector, RawRecord, SourceRecord
from hub.errors import RecordError
from hub.model import Customer

__all__ = [
    "CustomerJson",
    "Mapped",
    "Refusal",
    "as_customer_json",
    "canonical_data",
    "guess_id",
    "is_customer",
    "map_one",
]


@dataclass(frozen=True, slots=True)
class CustomerJson:
    """A customer mapped and validated elsewhere, as its canonical JSON.

    ``text`` is :meth:`~hub.model.CanonicalRecord.canonical_dict` serialised:
    ``Customer.model_dump_json(exclude_none=True, exclude_defaults=True)``.
    """

    external_id: str
    text: str
    updated_at: datetime | None = None


Mapped = SourceRecord | CustomerJson
"""One record of a mapped page."""


def as_customer_json(record: SourceRecord) -> CustomerJson:
    """A customer mapped here, in the form the customer path reads.

    The JSON is serialised once, in Rust: the customer path parses its dict
    back from it (a third of what dumping the model to a dict costs), hashes
    it for the fingerprint and stores it as the link's new base as it is.
    Keyed maps keep the order the mapping gave them, which a connector repeats
    from one read to the next; if a vendor shuffles them, the only cost is a
    merge that finds nothing to do.
    """
    text = record.record.model_dump_json(exclude_none=True, exclude_defaults=True)
    return CustomerJson(record.external_id, text, record.updated_at)


def is_customer(record: Mapped) -> bool:
    return isinstance(record, CustomerJson) or isinstance(record.record, Customer)


def canonical_data(record: Mapped) -> dict[str, Any]:
    """The record's canonical dict, whichever side mapped it."""
    if isinstance(record, CustomerJson):
        data: dict[str, Any] = from_json(record.text)
        return data
    return record.record.canonical_dict()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the connector could not map a record: what its dead letter will say."""

    external_id: str | None
    error: str


def map_one(connector: Connector, stream: str, raw: RawRecord) -> SourceRecord | Refusal:
    """The connector's mapping of ``raw``, or why it refused it (the page goes on)."""
    try:
        return connector.to_canonical(stream, raw)
    except (ValidationError, ValueError, RecordError) as exc:
        return Refusal(getattr(exc, "external_id", None) or guess_id(raw), _describe(exc))


def guess_id(raw: RawRecord) -> str | None:
    """The vendor id as most payloads name it; None when none of the usual keys holds one."""
    for key in ("external_id", "id", "ID", "Id"):
        if raw.get(key) not in (None, ""):
            return str(raw[key])
    return None


def _describe(exc: Exception) -> str:
    """One line per problem, naming the field: what a person needs to fix the source."""
    if isinstance(exc, RecordError) and isinstance(exc.__cause__, ValidationError):
        exc = exc.__cause__
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'record'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
    return str(exc)
