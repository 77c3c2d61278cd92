"""The JSON:API query grammar of the Oro sandbox: filters, sort, paging, include, errors.

Shared by every resource the sandbox serves (contacts, accounts,
opportunities, Magento customers, contact addresses), so each kind only
names the fields it may be filtered or sorted by and the relationships it may
include. The rules follow Oro's public API documentation (see
:mod:`connectors.orocrm.sandbox`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.responses import Response

__all__ = [
    "JSON_API",
    "KINDS",
    "Kind",
    "Refused",
    "document",
    "filters_of",
    "include_of",
    "iso",
    "matches",
    "number_of",
    "related",
    "sort_of",
    "sorted_by",
]

JSON_API = "application/vnd.api+json"
Resource = dict[str, Any]

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}
_TIMES = frozenset({"updatedAt", "createdAt"})
_CASELESS = frozenset({"primaryEmail", "email"})


@dataclass(frozen=True, slots=True)
class Kind:
    """A resource type: the fields it is filtered and sorted by, the relationships it includes.

    A relationship filter (``owner`` of an address, ``contact`` of an
    opportunity) compares the related resource's id.
    """

    filters: frozenset[str]
    includes: frozenset[str]


KINDS = {
    "contacts": Kind(
        frozenset({"id", "updatedAt", "createdAt", "primaryEmail"}),
        frozenset({"addresses", "accounts"}),
    ),
    "contactaddresses": Kind(frozenset({"id", "updatedAt", "owner"}), frozenset({"owner"})),
    "accounts": Kind(frozenset({"id", "updatedAt", "createdAt", "name"}), frozenset({"contacts"})),
    "opportunities": Kind(
        frozenset({"id", "updatedAt", "createdAt", "contact", "account"}),
        frozenset({"contact", "account"}),
    ),
    "magentocustomers": Kind(
        frozenset({"id", "updatedAt", "createdAt", "email", "originId"}),
        frozenset({"contact", "account"}),
    ),
}


class Refused(Exception):
    """A request Oro refuses: its status, title and detail, and the pointer or parameter."""

    def __init__(self, status: int, title: str, detail: str, **source: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.source = status, title, detail, source


def document(
    body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(json.dumps(body), status, dict(headers or {}), media_type=JSON_API)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def related(resource: Resource, name: str) -> list[Resource]:
    """The resource identifiers of one relationship, a to-one as a list of one or none."""
    data = ((resource.get("relationships") or {}).get(name) or {}).get("data")
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def _value(resource: Resource, name: str) -> Any:
    if name == "id":
        return int(resource["id"])
    if name in (resource.get("relationships") or {}):
        found = related(resource, name)
        return int(found[0]["id"]) if found else 0
    return resource["attributes"].get(name) or ""


def filters_of(query: Mapping[str, str], kind: Kind) -> list[tuple[str, str, str]]:
    found = []
    for key, value in query.items():
        if not key.startswith("filter["):
            continue
        parts = key[len("filter[") : -1].split("][")
        name, operator = parts[0], parts[1] if len(parts) > 1 else "eq"
        if name not in kind.filters or operator not in OPERATORS or not key.endswith("]"):
            raise Refused(
                400, "filter constraint", f'Filter "{key}" is not supported.', parameter=key
            )
        numeric = name == "id" or name not in _TIMES | _CASELESS | {"name"}
        if numeric and not all(v.isdigit() for v in value.split(",")):
            raise Refused(
                400,
                "unexpected value exception",
                f'Expected integer value. Given "{value}".',
                parameter=key,
            )
        if name in _TIMES:
            try:
                value = iso(datetime.fromisoformat(value))
            except ValueError:
                raise Refused(
                    400,
                    "unexpected value exception",
                    f'Expected datetime value. Given "{value}".',
                    parameter=key,
                ) from None
        found.append((name, operator, value))
    return found


def matches(resource: Resource, filters: list[tuple[str, str, str]]) -> bool:
    """Every filter holds; ids take a comma list for eq, an e-mail compares caseless."""
    for name, operator, wanted in filters:
        have = _value(resource, name)
        if isinstance(have, int):
            ids = [int(v) for v in wanted.split(",")]
            held = have in ids if operator == "eq" else OPERATORS[operator](have, ids[0])
        elif name in _CASELESS:
            held = OPERATORS[operator](str(have).casefold(), wanted.casefold())
        else:
            held = OPERATORS[operator](have, wanted)
        if not held:
            return False
    return True


def sort_of(text: str, kind: Kind) -> list[tuple[str, bool]]:
    fields = [(part.lstrip("-"), part.startswith("-")) for part in text.split(",") if part]
    unknown = [name for name, _ in fields if name not in kind.filters]
    if unknown:
        raise Refused(
            400,
            "sort constraint",
            f'Sorting by "{unknown[0]}" field is not supported.',
            parameter="sort",
        )
    return fields


def sorted_by(rows: list[Resource], text: str, kind: Kind) -> list[Resource]:
    """Rows in the order ``sort`` asks (ids ascending break ties, as Oro's default)."""
    rows = sorted(rows, key=lambda r: int(r["id"]))
    for name, descending in reversed(sort_of(text, kind)):
        rows.sort(key=_by(name), reverse=descending)
    return rows


def _by(name: str) -> Callable[[Resource], Any]:
    return lambda resource: _value(resource, name)


def number_of(text: str, name: str, *, minimum: int) -> int:
    try:
        number = int(text)
    except ValueError:
        number = minimum - 1
    if number < minimum or number == 0:
        raise Refused(
            400,
            "unexpected value exception",
            f'Expected integer value. Given "{text}".',
            parameter=name,
        )
    return number


def include_of(text: str | None, kind: Kind) -> list[str]:
    names = [name for name in (text or "").split(",") if name]
    unknown = [name for name in names if name not in kind.includes]
    if unknown:
        raise Refused(
            400,
            "request data constraint",
            f'The relationship "{unknown[0]}" does not exist.',
            parameter="include",
        )
    return names
