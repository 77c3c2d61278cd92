"""Custom contact fields (made in Sugar Studio) that hold hub fields for the call centre.

A business adds a field such as ``crmhub_next_product_c`` to Contacts in
Studio (Sugar names every custom field with a ``_c`` suffix) and maps it in
the connection's ``custom_fields``; the hub then writes its recommendations
there with every contact it pushes and reads them back unchanged, so the
agent on the phone sees what to offer. Only the hub's derived
recommendations can be mapped: the hub never takes a value from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.model import Customer, Recommendations

__all__ = ["CUSTOM_TARGETS", "custom_fields_of", "held_custom", "read_custom"]

_PREFIX = "recommendations."
CUSTOM_TARGETS = frozenset(f"{_PREFIX}{name}" for name in Recommendations.model_fields)


def held_custom(fields: Mapping[str, str]) -> frozenset[str]:
    """The canonical fields a contact holds through the mapped custom fields."""
    return frozenset(fields.values())


def read_custom(person: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The mapped custom fields of a contact, as canonical fields (empty ones left out)."""
    values = {
        target.removeprefix(_PREFIX): person[field]
        for field, target in fields.items()
        if person.get(field) not in (None, "")
    }
    return {"recommendations": values} if values else {}


def custom_fields_of(customer: Customer, fields: Mapping[str, str]) -> dict[str, str]:
    """The custom fields to send; a recommendation the hub no longer has is sent empty."""
    held = customer.recommendations
    return {
        field: (getattr(held, target.removeprefix(_PREFIX)) if held else None) or ""
        for field, target in fields.items()
    }
