"""Oro opportunities and Magento-synced customers -> canonical records: pure functions.

An opportunity is a sales touch point with the contact it names: an
:class:`~hub.model.Interaction` of kind ``opportunity`` whose status is Oro's
stage (``in_progress``, ``won``, ``lost``) and whose details keep the
amounts, probability and close date. Its ``customer_ref`` is the contact id,
so the engine hangs it on the hub customer linked to that contact.

A Magento customer in Oro (kept there by Oro's Magento integration) is a
person: it becomes a :class:`~hub.model.Customer` under the external id
``magentocustomers:<id>``, so its link never shares an id with a contact's,
and identity resolution joins it to the Magento connector's customer by
e-mail (and VAT number, as ``tax_id``). ``originId``, Magento's own id, is
kept as the ``magento_customer_id`` attribute.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.orocrm.mapping import Resource, company_of, parse_time, related_id
from hub.normalize import normalize_currency

__all__ = ["MAGENTO_PREFIX", "magento_customer_to_customer", "opportunity_to_interaction"]

MAGENTO_PREFIX = "magentocustomers:"
_GENDERS = {"male", "female"}


def _amount(values: dict[str, Any], name: str) -> dict[str, str]:
    """``{name}Value``/``{name}Currency`` as exact decimal text and an ISO code, when set."""
    value, currency = values.get(f"{name}Value"), values.get(f"{name}Currency")
    if value in (None, ""):
        return {}
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name}Value {value!r} is not a number") from None
    found = {"value": format(amount, "f")}
    if currency:
        found["currency"] = normalize_currency(str(currency))
    return found


def _day(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def opportunity_to_interaction(opportunity: Resource) -> tuple[str, dict[str, Any]]:
    """Return (opportunity id, Interaction-shaped dict); the caller validates it."""
    external_id = str(opportunity.get("id") or "")
    if not external_id:
        raise ValueError("the Oro opportunity has no id")
    values = opportunity.get("attributes") or {}
    budget, revenue = _amount(values, "budgetAmount"), _amount(values, "closeRevenue")
    details = {
        "budget": budget.get("value"),
        "currency": budget.get("currency") or revenue.get("currency"),
        "close_revenue": revenue.get("value"),
        "probability": values.get("probability"),
        "close_date": _day(values.get("closeDate"), "closeDate"),
        "close_reason": related_id(opportunity, "closeReason"),
        "account_id": related_id(opportunity, "account"),
    }
    data: dict[str, Any] = {
        "kind": "opportunity",
        "occurred_at": parse_time(values.get("createdAt"), "createdAt"),
        "customer_ref": related_id(opportunity, "contact"),
        "subject": values.get("name"),
        "status": related_id(opportunity, "status"),
        "details": {key: value for key, value in details.items() if value is not None},
        "updated_at": parse_time(values.get("updatedAt"), "updatedAt"),
    }
    return external_id, {key: value for key, value in data.items() if value not in (None, "")}


def magento_customer_to_customer(customer: Resource) -> tuple[str, dict[str, Any]]:
    """Return (``magentocustomers:<id>``, Customer-shaped dict); the caller validates it."""
    resource_id = str(customer.get("id") or "")
    if not resource_id:
        raise ValueError("the Oro Magento customer has no id")
    values = customer.get("attributes") or {}
    origin = values.get("originId")
    data: dict[str, Any] = {
        "first_name": values.get("firstName"),
        "last_name": values.get("lastName"),
        "emails": [values["email"]] if values.get("email") else [],
        "birth_date": values.get("birthday"),
        "gender": values.get("gender") if values.get("gender") in _GENDERS else None,
        "identifiers": {"tax_id": str(values["vat"])} if values.get("vat") else {},
        "attributes": ({"magento_customer_id": str(origin)} if origin is not None else {})
        | company_of(customer, "account"),
        "created_at": parse_time(values.get("createdAt"), "createdAt"),
        "updated_at": parse_time(values.get("updatedAt"), "updatedAt"),
    }
    return f"{MAGENTO_PREFIX}{resource_id}", {
        key: value for key, value in data.items() if value not in (None, "", [], {})
    }
