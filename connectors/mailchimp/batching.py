"""Large pushes through POST /batches: submit, poll until finished, read each result back.

Mailchimp runs a batch in the background and leaves its results in a gzipped
tar of JSON files (arrays of ``{status_code, operation_id, response}``), so a
result belongs to its record through the ``operation_id`` we give each
operation. A batch that does not finish within the connection's timeout is a
retriable failure: its operations are upserts, so running the push again
lands on the same members.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.mailchimp.client import MailchimpClient
from hub.errors import RetriableError
from hub.http import Clock

__all__ = ["MAX_OPERATIONS", "Operation", "OperationResult", "run_operations"]

MAX_OPERATIONS = 500
"""Operations per batch: Mailchimp limits pending batches, not their size; 500 keeps each small."""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    body: Mapping[str, Any] | None = None

    def as_json(self, operation_id: str) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "operation_id": operation_id,
        }
        if self.body is not None:
            operation["body"] = json.dumps(self.body)
        return operation


@dataclass(frozen=True, slots=True)
class OperationResult:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    def problem(self) -> str:
        """Mailchimp's own words for a failed operation, as a dead letter shows them."""
        body = self.body if isinstance(self.body, dict) else {}
        title, detail = body.get("title", "error"), body.get("detail", "")
        return f"HTTP {self.status} {title}: {detail}".rstrip(": ")


async def run_operations(
    client: MailchimpClient,
    operations: Sequence[Operation],
    *,
    clock: Clock,
    poll_seconds: float,
    timeout_seconds: float,
) -> list[OperationResult]:
    """Run ``operations`` in batches of at most :data:`MAX_OPERATIONS`; results in their order."""
    results: list[OperationResult] = []
    for start in range(0, len(operations), MAX_OPERATIONS):
        chunk = operations[start : start + MAX_OPERATIONS]
        payload = [op.as_json(str(number)) for number, op in enumerate(chunk)]
        batch = await client.start_batch(payload)
        deadline = clock.monotonic() + timeout_seconds
        while batch.get("status") != "finished":
            if clock.monotonic() >= deadline:
                raise RetriableError(
                    f"crmhub: connection {client.connection!r}: Mailchimp batch {batch.get('id')} "
                    f"did not finish within {timeout_seconds:g} s; the push is retried later "
                    "(its operations are upserts, so nothing is written twice)"
                )
            await clock.sleep(poll_seconds)
            batch = await client.batch(str(batch["id"]))
        by_id = _read_archive(await client.download(str(batch["response_body_url"])))
        results += [
            by_id.get(str(number), OperationResult(500, None)) for number in range(len(chunk))
        ]
    return results


def _read_archive(archive: bytes) -> dict[str, OperationResult]:
    found: dict[str, OperationResult] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is None or not member.name.endswith(".json"):
                continue
            for entry in json.loads(handle.read()):
                text = entry.get("response") or ""
                body = json.loads(text) if text else None
                found[str(entry.get("operation_id"))] = OperationResult(
                    int(entry["status_code"]), body
                )
    return found
