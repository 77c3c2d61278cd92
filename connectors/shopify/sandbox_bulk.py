"""Bulk operations in the sandbox: run a query over everything, serve the JSONL result.

Shopify allows one bulk query at a time per app and shop
(``OPERATION_IN_PROGRESS`` otherwise), requires it to select one root
connection, and writes one JSON object per line: each node without its
nested connections, followed by those connections' nodes, each carrying
``__parentId``. The result URL is a signed link to cloud storage: it needs no
access token and answers ranged requests.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    graphql_sync,
    parse,
    validate,
)
from starlette.requests import Request
from starlette.responses import Response

from connectors.shopify.emulator import Node, gid
from connectors.shopify.emulator_writes import iso

if TYPE_CHECKING:
    from connectors.shopify.sandbox import ShopifySandbox

__all__ = ["BulkRunner", "jsonl_lines"]


def jsonl_lines(node: Node, parent: str | None = None) -> list[Node]:
    """``node`` as bulk lines: itself without nested connections, then their nodes."""
    own: Node = {}
    children: list[Node] = []
    for key, value in node.items():
        if isinstance(value, dict) and "edges" in value:
            for edge in value["edges"]:
                children += jsonl_lines(edge["node"], node.get("id"))
        else:
            own[key] = value
    if parent is not None:
        own["__parentId"] = parent
    return [own, *children]


class BulkRunner:
    PATH = "/bulk-operations"

    def __init__(self, sandbox: ShopifySandbox, seconds: float) -> None:
        self.sandbox = sandbox
        self.seconds = seconds
        self.current: Node | None = None
        self.files: dict[str, bytes] = {}
        self._ready: dict[str, float] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._numbers = itertools.count(4_000_000_001)

    def bind(self, schema: GraphQLSchema) -> None:
        mutation = schema.mutation_type
        assert isinstance(mutation, GraphQLObjectType)
        mutation.fields["bulkOperationRunQuery"].resolve = self.run

    def run(self, _: Any, info: Any, query: str) -> Node:
        current = self.current
        if current is not None and current["status"] in ("CREATED", "RUNNING"):
            message = (
                "A bulk query operation for this app and shop is already in progress: "
                f"{current['id']}."
            )
            return _refused(message, "OPERATION_IN_PROGRESS")
        try:
            document = parse(query)
        except GraphQLError as exc:
            return _refused(f"Invalid bulk query: {exc.message}", "INVALID")
        problems = validate(self.sandbox.state.schema, document)
        roots = [
            selection
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
            for selection in definition.selection_set.selections
            if isinstance(selection, FieldNode)
        ]
        if problems or len(roots) != 1:
            reason = problems[0].message if problems else "select exactly one root connection"
            return _refused(f"Invalid bulk query: {reason}", "INVALID")
        root = roots[0].alias.value if roots[0].alias else roots[0].name.value
        operation: Node = {
            "id": gid("BulkOperation", next(self._numbers)),
            "status": "CREATED",
            "errorCode": None,
            "type": "QUERY",
            "query": query,
            "createdAt": iso(self.sandbox.stamp()),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
        }
        self._ready[operation["id"]] = self.sandbox.clock.monotonic() + self.seconds
        self.sandbox.state.others[operation["id"]] = operation
        self.current = operation
        # Shopify answers at once and exports in the background; so does the sandbox,
        # or a large export would hold the request past the client's timeout.
        worker = threading.Thread(target=self._export, args=(operation, query, root), daemon=True)
        self._workers[operation["id"]] = worker
        worker.start()
        return {"bulkOperation": operation, "userErrors": []}

    def _export(self, operation: Node, query: str, root: str) -> None:
        result = graphql_sync(self.sandbox.state.schema, query, context_value={"bulk": True})
        edges = (result.data or {}).get(root, {}).get("edges", [])
        lines = [line for edge in edges for line in jsonl_lines(edge["node"])]
        name = f"{operation['id'].rsplit('/', 1)[1]}-{secrets.token_hex(8)}.jsonl"
        self.files[name] = b"".join(self.sandbox.dumps(line) + b"\n" for line in lines)
        operation["_file"], operation["_counts"] = name, (len(lines), len(edges))
        if result.errors:
            operation["errorCode"] = "INTERNAL_SERVER_ERROR"

    def advance(self, base_url: str) -> None:
        """Move the current operation on as its time passes (RUNNING, then COMPLETED)."""
        operation = self.current
        if operation is None or operation["status"] not in ("CREATED", "RUNNING"):
            return
        worker = self._workers[operation["id"]]
        if self.sandbox.clock.monotonic() >= self._ready[operation["id"]]:
            worker.join(0.05)  # a small export is done by now; a large one keeps running
        if worker.is_alive() or self.sandbox.clock.monotonic() < self._ready[operation["id"]]:
            operation["status"] = "RUNNING"
            return
        if operation["errorCode"]:
            operation.update(status="FAILED", completedAt=iso(self.sandbox.stamp()))
            return
        objects, roots = operation["_counts"]
        operation.update(
            status="COMPLETED",
            completedAt=iso(self.sandbox.stamp()),
            objectCount=str(objects),
            rootObjectCount=str(roots),
            fileSize=str(len(self.files[operation["_file"]])) if objects else None,
            url=f"{base_url.rstrip('/')}{self.PATH}/{operation['_file']}" if objects else None,
        )

    async def download(self, request: Request) -> Response:
        content = self.files.get(request.path_params["name"])
        if content is None:
            return Response(
                "<Error><Code>NoSuchKey</Code></Error>", 404, media_type="application/xml"
            )
        start = 0
        ranged = request.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged[6:].rstrip("-").isdigit():
            start = int(ranged[6:].rstrip("-"))
        if start:
            end = len(content) - 1
            headers = {"Content-Range": f"bytes {start}-{end}/{len(content)}"}
            return Response(content[start:], 206, headers, media_type="application/jsonl")
        return Response(content, 200, media_type="application/jsonl")


def _refused(message: str, code: str) -> Node:
    error = {"field": ["query"], "message": message, "code": code}
    return {"bulkOperation": None, "userErrors": [error]}
