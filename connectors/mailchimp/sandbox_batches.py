"""Batch operations of the Mailchimp sandbox: POST /batches, run later, results as tar.gz.

Mailchimp queues a batch and answers at once with ``status: pending``; the
operations run in the background, and once the batch is ``finished`` its
``response_body_url`` points at a gzipped tar of JSON files, each an array of
``{status_code, operation_id, response}`` where ``response`` is the operation's
JSON body as a string. Operation bodies are JSON strings too. Here a batch
runs on the first status check at least ``run_after`` seconds (sandbox clock)
after it was submitted, through the sandbox's own routes, so every rule of a
single call applies to each operation.
"""

from __future__ import annotations

import io
import json
import secrets
import tarfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from starlette.types import ASGIApp

__all__ = ["Batch", "results_archive", "run_batch"]

RESULTS_PATH = "/batch-results"
_PER_FILE = 100


@dataclass
class Batch:
    id: str
    operations: list[dict[str, Any]]
    submitted_at: datetime
    submitted_clock: float
    results: list[dict[str, Any]] = field(default_factory=list)
    completed_at: datetime | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    def view(self, base_url: str, stamp: str, completed: str | None) -> dict[str, Any]:
        done = self.completed_at is not None
        errored = sum(1 for r in self.results if r["status_code"] >= 400)
        return {
            "id": self.id,
            "status": "finished" if done else "pending",
            "total_operations": len(self.operations),
            "finished_operations": len(self.results),
            "errored_operations": errored,
            "submitted_at": stamp,
            "completed_at": completed or "",
            "response_body_url": f"{base_url}{RESULTS_PATH}/{self.token}.tar.gz" if done else "",
            "_links": [],
        }


async def run_batch(batch: Batch, app: ASGIApp, root: str) -> None:
    """Run every operation in order against ``app`` (the routes behind the edge)."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://batch.internal") as client:
        for operation in batch.operations:
            body = operation.get("body")
            response = await client.request(
                str(operation.get("method", "GET")).upper(),
                root + "/" + str(operation.get("path", "")).lstrip("/"),
                params=operation.get("params") or None,
                content=body.encode() if isinstance(body, str) else None,
                headers={"Content-Type": "application/json"},
            )
            batch.results.append(
                {
                    "status_code": response.status_code,
                    "operation_id": operation.get("operation_id"),
                    "response": response.text,
                }
            )


def results_archive(batch: Batch) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for number, start in enumerate(range(0, len(batch.results), _PER_FILE)):
            data = json.dumps(batch.results[start : start + _PER_FILE]).encode()
            info = tarfile.TarInfo(f"{batch.id}/{number}.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
