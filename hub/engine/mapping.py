"""Mapping vendor records into the canonical model, record by record.

A record the connector cannot map (``ValueError``, a pydantic
``ValidationError``, a :class:`~hub.errors.RecordError`) becomes a dead
letter with its payload, secrets removed, and the rest of the page goes on.
The mapping itself (:func:`map_one`) needs only the connector, so it runs
the same here and in a worker process (:mod:`hub.engine.mapworker`); what
turns its outcomes into a page for the writer needs the run's context.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from hub.connector import Connector, Page, RawRecord, SourceRecord
from hub.engine.context import StreamContext
from hub.engine.mapped import Mapped
from hub.engine.rawskip import guess_id
from hub.errors import RecordError
from hub.redact import scrub, secret_values
from hub.store.tables import DeadLetter

__all__ = ["MappedPage", "Refusal", "Todo", "map_here", "map_one", "map_page", "mapped_page"]

Todo = list[tuple[RawRecord, str | None, str | None]]
"""A page's records to map, each with its guessed vendor id and its payload hash."""


@dataclass(frozen=True, slots=True)
class MappedPage:
    """A page as the writer takes it: its records mapped, those that failed, payload hashes.

    ``raw_hashes`` are the payload hashes by vendor id that the links of
    applied customers keep (:mod:`hub.engine.rawskip`).
    """

    page: Page
    records: list[Mapped]
    failed: list[DeadLetter]
    raw_hashes: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the connector could not map a record: what its dead letter will say."""

    external_id: str | None
    error: str


def map_one(connector: Connector, stream: str, raw: RawRecord) -> SourceRecord | Refusal:
    try:
        return connector.to_canonical(stream, raw)
    except (ValidationError, ValueError, RecordError) as exc:
        return Refusal(getattr(exc, "external_id", None) or guess_id(raw), _describe(exc))


def mapped_page(
    ctx: StreamContext, page: Page, todo: Todo, outcomes: Sequence[Mapped | Refusal]
) -> MappedPage:
    """The page of ``todo``'s outcomes, in order, plus the payload hash each applied link keeps.

    A hash is kept only for a record whose mapped id is the id it was found
    by; the link of any other record keeps none.
    """
    mapped: list[Mapped] = []
    failed: list[DeadLetter] = []
    hashes: dict[str, str | None] = {}
    secrets = secret_values(ctx.connector.config)
    for (raw, key, digest), outcome in zip(todo, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            failed.append(_dead_letter(ctx, raw, outcome, secrets))
            continue
        mapped.append(outcome)
        hashes[outcome.external_id] = digest if outcome.external_id == key else None
    return MappedPage(page, mapped, failed, hashes)


def map_here(ctx: StreamContext, page: Page, todo: Todo) -> MappedPage:
    """:func:`mapped_page` of ``todo`` mapped in this process."""
    outcomes = [map_one(ctx.connector, ctx.stream, raw) for raw, _, _ in todo]
    return mapped_page(ctx, page, todo, outcomes)


def map_page(
    ctx: StreamContext, raws: list[RawRecord]
) -> tuple[list[SourceRecord], list[DeadLetter]]:
    """Map each raw record; the ones that fail come back as dead letters, scrubbed."""
    mapped: list[SourceRecord] = []
    failed: list[DeadLetter] = []
    secrets = secret_values(ctx.connector.config)
    for raw in raws:
        outcome = map_one(ctx.connector, ctx.stream, raw)
        if isinstance(outcome, Refusal):
            failed.append(_dead_letter(ctx, raw, outcome, secrets))
        else:
            mapped.append(outcome)
    return mapped, failed


def _dead_letter(
    ctx: StreamContext, raw: RawRecord, refusal: Refusal, secrets: Collection[str]
) -> DeadLetter:
    return DeadLetter(
        connection=ctx.connection,
        stream=ctx.stream,
        external_id=refusal.external_id,
        payload=scrub(raw, secrets),
        error=scrub(refusal.error, secrets),
        reason="invalid",
        run_id=ctx.run_id,
    )


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
