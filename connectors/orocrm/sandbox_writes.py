"""What the Oro sandbox accepts in a POST or PATCH: JSON:API documents checked as Oro checks them.

Each refusal is a :class:`~connectors.orocrm.sandbox_query.Refused` carrying
Oro's title and the ``source.pointer`` of the offending member, so the
connector's dead letters can say where a record went wrong.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from connectors.orocrm.sandbox_query import JSON_API, Refused

__all__ = [
    "ADDRESS_WRITABLE",
    "CONTACT_WRITABLE",
    "address_parts",
    "contact_attributes",
    "data_of",
    "required",
]

CONTACT_WRITABLE = frozenset(
    {"namePrefix", "firstName", "middleName", "lastName", "nameSuffix", "gender", "birthday",
     "description", "jobTitle", "primaryEmail", "emails", "primaryPhone", "phones"}
)  # fmt: skip
ADDRESS_WRITABLE = frozenset(
    {"label", "street", "street2", "city", "postalCode", "organization", "customRegion",
     "namePrefix", "firstName", "middleName", "lastName", "nameSuffix", "primary"}
)  # fmt: skip
_ADDRESS_RELATIONSHIPS = {
    "owner": "contacts",
    "country": "countries",
    "region": "regions",
    "types": "addresstypes",
}
_ADDRESS_TYPES = frozenset({"billing", "shipping"})


async def data_of(request: Request, kind: str, resource_id: str | None) -> dict[str, Any]:
    """The primary data of a write: the right media type, type and (on PATCH) id."""
    if request.headers.get("Content-Type", "").split(";")[0] != JSON_API:
        raise Refused(415, "unsupported media type", f'The "Content-Type" must be "{JSON_API}".')
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise Refused(
            400, "request data constraint", "The request data should not be empty."
        ) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise Refused(
            409,
            "conflict constraint",
            f'The "type" property should be "{kind}".',
            pointer="/data/type",
        )
    if resource_id is not None and str(data.get("id")) != resource_id:
        raise Refused(
            409,
            "conflict constraint",
            "The 'id' property of the primary data object should match 'id' parameter of the "
            "query string.",
            pointer="/data/id",
        )
    return data


def _extra(attributes: dict[str, Any], writable: frozenset[str]) -> None:
    unknown = sorted(set(attributes) - writable)
    if unknown:
        raise Refused(
            400,
            "extra fields constraint",
            "This form should not contain extra fields.",
            pointer=f"/data/attributes/{unknown[0]}",
        )


def contact_attributes(data: dict[str, Any]) -> dict[str, Any]:
    attributes = dict(data.get("attributes") or {})
    _extra(attributes, CONTACT_WRITABLE)
    emails = attributes.get("emails") or []
    for index, item in enumerate(emails):
        if "@" not in str((item or {}).get("email")) or str(item["email"]).count("@") != 1:
            raise Refused(
                400,
                "email constraint",
                "This value is not a valid email address.",
                pointer=f"/data/attributes/emails/{index}/email",
            )
    primary = attributes.get("primaryEmail")
    if primary and "emails" in attributes and primary not in {e["email"] for e in emails}:
        raise Refused(
            400,
            "primary item constraint",
            "One of the emails must be primary.",
            pointer="/data/attributes/primaryEmail",
        )
    return attributes


def required(attributes: dict[str, Any]) -> None:
    """A contact keeps one of firstName, lastName, emails, phones (Oro's contact rule)."""
    if not any(attributes.get(name) for name in ("firstName", "lastName", "emails", "phones")):
        raise Refused(
            400,
            "not blank constraint",
            "One of the following fields must be defined: firstName, lastName, emails, phones.",
            pointer="/data/attributes/firstName",
        )


def address_parts(data: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(attributes, relationships) of a contact address write, checked.

    A new address needs its owner contact and a country; an update may not
    clear the country, and the owner is read-only then (Oro ignores it).
    """
    attributes = dict(data.get("attributes") or {})
    _extra(attributes, ADDRESS_WRITABLE)
    relationships = dict(data.get("relationships") or {})
    for name, value in relationships.items():
        expected = _ADDRESS_RELATIONSHIPS.get(name)
        if expected is None:
            raise Refused(
                400,
                "extra fields constraint",
                "This form should not contain extra fields.",
                pointer=f"/data/relationships/{name}",
            )
        items = (value or {}).get("data")
        for item in items if isinstance(items, list) else [items] if items else []:
            if not isinstance(item, dict) or item.get("type") != expected:
                raise Refused(
                    400,
                    "request data constraint",
                    f'The "type" property should be "{expected}".',
                    pointer=f"/data/relationships/{name}/data",
                )
            if name == "types" and item.get("id") not in _ADDRESS_TYPES:
                raise Refused(
                    404,
                    "entity not found constraint",
                    "The entity does not exist.",
                    pointer=f"/data/relationships/{name}/data",
                )
    if not creating:
        relationships.pop("owner", None)
    needed = (
        ("owner", "country") if creating else ("country",) if "country" in relationships else ()
    )
    for name in needed:
        if not (relationships.get(name) or {}).get("data"):
            raise Refused(
                400,
                "not blank constraint",
                "This value should not be blank.",
                pointer=f"/data/relationships/{name}/data",
            )
    return attributes, relationships
