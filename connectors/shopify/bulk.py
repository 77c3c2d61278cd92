"""Reassembling a bulk operation's JSONL into the nodes a paged read returns.

Each line is one node; a nested connection's nodes follow their parent as
lines of their own with ``__parentId``. Parents are gathered until a page is
full, and a page is handed on only when the next parent's line starts, so
every record leaves with all its children. The offset that goes with a page
is where the next parent's line starts: resuming there reads no line twice
and splits no record.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["CHILDREN", "bulk_pages"]

Json = dict[str, Any]

CHILDREN = {"LineItem": "lineItems", "Metafield": "metafields"}
"""Child node type (from its GID) -> the parent's connection field."""


def _kind(node: Json) -> str:
    return str(node.get("id", "")).split("/")[3] if str(node.get("id", "")).count("/") >= 4 else ""


def _attach(parent: Json, child: Json) -> None:
    child = {key: value for key, value in child.items() if key != "__parentId"}
    field = CHILDREN.get(_kind(child), "children")
    connection = parent.setdefault(field, {"nodes": [], "pageInfo": {"hasNextPage": False}})
    connection["nodes"].append(child)


async def bulk_pages(
    lines: AsyncIterator[tuple[bytes, int]], *, size: int, child_fields: tuple[str, ...] = ()
) -> AsyncIterator[tuple[list[Json], int]]:
    """Pages of up to ``size`` whole records, each with the offset to resume after it
    (-1 after the last page)."""
    page: list[Json] = []
    async for line, end in lines:
        node = json.loads(line)
        if "__parentId" in node:
            if page and page[-1].get("id") == node["__parentId"]:
                _attach(page[-1], node)
            continue  # an orphan: its parent was in an earlier page (cannot happen in order)
        if len(page) >= size:
            yield page, end - len(line) - 1  # where this parent's line starts
            page = []
        for field in child_fields:
            node.setdefault(field, {"nodes": [], "pageInfo": {"hasNextPage": False}})
        page.append(node)
    if page:
        yield page, -1
