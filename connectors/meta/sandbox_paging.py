"""Graph API cursor paging, as the sandbox serves it.

An edge answers ``{"data": [...], "paging": {"cursors": {"before", "after"},
"next": url}}``. Cursors are opaque (here: base64 of the sort key of the first
and last row); ``next`` is the request's own URL with ``after`` set, so it
keeps every parameter it was asked with, the token included, and is left out
on the last page, as Meta's is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from connectors.meta.sandbox_audiences import Refused

__all__ = ["page_of"]

_LIMITS = range(1, 501)

Row = dict[str, Any]


def page_of(
    request: Request, rows: list[Row], *, key: Callable[[Row], Any], default_limit: int
) -> tuple[list[Row], dict[str, Any] | None]:
    """The page of ``rows`` (ordered by ``key``) the request asks for, and its ``paging``."""
    query = request.query_params
    limit = _limit(query.get("limit"), default_limit)
    ordered = sorted(rows, key=key)
    if "after" in query:
        after = _decode(query["after"])
        ordered = [row for row in ordered if _comparable(key(row)) > after]
    page = ordered[:limit]
    if not page:
        return [], None
    paging: dict[str, Any] = {
        "cursors": {"before": _encode(key(page[0])), "after": _encode(key(page[-1]))}
    }
    if len(ordered) > limit:
        paging["next"] = str(request.url.include_query_params(after=paging["cursors"]["after"]))
    return page, paging


def _comparable(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise Refused("100", "(#100) The after cursor is not valid") from None


def _limit(value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) not in _LIMITS:
        raise Refused("100", "(#100) limit must be a whole number from 1 to 500")
    return int(value)
