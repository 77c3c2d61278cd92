"""Rows of a visits or touch-points file -> canonical interactions.

A shop's door counter, a web analytics export or a list of leads is a CSV of
touch points: when, which channel, optionally who (an id in the customers
file or an e-mail) and how many visits the row stands for (a counter's
hourly total). They become ``Interaction`` records, the footfall that the
analytics plugin turns into conversion by channel. Read only: the hub never
writes a visitor count back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.errors import RecordError
from hub.model import InteractionKind

__all__ = ["INTERACTION_TARGETS", "known_interaction_target", "row_to_interaction"]

INTERACTION_TARGETS = frozenset(
    {
        "external_id",
        "kind",
        "occurred_at",
        "customer_ref",
        "customer_email",
        "channel",
        "subject",
        "status",
        "campaign_ref",
        "updated_at",
        "visits",
    }
)
_DETAIL = "detail:"


def known_interaction_target(target: str) -> bool:
    return target in INTERACTION_TARGETS or (
        target.startswith(_DETAIL) and bool(target.removeprefix(_DETAIL))
    )


def row_to_interaction(
    row: Mapping[str, Any],
    columns: Mapping[str, str],
    *,
    kind: InteractionKind | None,
    channel: str | None,
) -> tuple[str, dict[str, Any]]:
    """Return (external id, Interaction-shaped dict); the caller validates it.

    ``kind`` and ``channel`` stand for the whole file where it has no such
    column (a door counter's export is all store visits at one shop).
    """
    data: dict[str, Any] = {"kind": kind, "channel": channel, "details": {}}
    external_id, problem = "", None
    for column, target in columns.items():
        value = row.get(column)
        if value is None or not str(value).strip():
            continue
        text = str(value).strip()
        if target == "external_id":
            external_id = text
        elif target == "visits":
            if text.isdigit():
                data["details"]["visits"] = int(text)
            else:
                problem = f"column {column!r}: visits {text!r} is not a whole number"
        elif target.startswith(_DETAIL):
            data["details"][target.removeprefix(_DETAIL)] = text
        else:
            data[target] = text
    if not external_id:
        raise ValueError("the row has no value in the column mapped to external_id")
    if problem is not None:
        raise RecordError(problem, external_id=external_id)
    return external_id, {key: value for key, value in data.items() if value is not None}
