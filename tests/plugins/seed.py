"""Rows for plugin tests, written straight into the store's tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.store.database import Store
from hub.store.tables import (
    CampaignRow,
    CustomerRow,
    InteractionRow,
    OrderLineRow,
    OrderRow,
)

_ids = itertools.count(1)


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def customer(store: Store, hub_id: str, **data: Any) -> None:
    with store.session() as session:
        emails = data.get("emails") or [None]
        session.add(
            CustomerRow(hub_id=hub_id, data={"hub_id": hub_id, **data}, primary_email=emails[0])
        )
        session.commit()


def order(
    store: Store,
    hub_id: str,
    placed: str,
    total: str,
    *,
    status: str = "closed",
    lines: list[tuple[str, int, str, str | None]] = (),  # type: ignore[assignment]
    channel: str | None = None,
) -> str:
    """An order; ``lines`` are (category, quantity, unit_price, unit cost)."""
    order_id = f"o{next(_ids)}"
    with store.session() as session:
        session.add(
            OrderRow(
                id=order_id,
                customer_hub_id=hub_id,
                source="shop",
                placed_at=day(placed),
                currency="EUR",
                total=Decimal(total),
                status=status,
                channel=channel,
            )
        )
        session.flush()
        for position, (category, quantity, price, cost) in enumerate(lines):
            session.add(
                OrderLineRow(
                    order_id=order_id,
                    position=position,
                    name=f"{category} item",
                    category=category,
                    quantity=quantity,
                    unit_price=Decimal(price),
                    total=Decimal(price) * quantity,
                    cost=None if cost is None else Decimal(cost),
                )
            )
        session.commit()
    return order_id


def interaction(
    store: Store,
    hub_id: str | None,
    kind: str,
    occurred: str,
    *,
    channel: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    with store.session() as session:
        session.add(
            InteractionRow(
                id=f"i{next(_ids)}",
                customer_hub_id=hub_id,
                kind=kind,
                occurred_at=day(occurred),
                source="helpdesk",
                channel=channel,
                details=details or {},
            )
        )
        session.commit()


def campaign(store: Store, campaign_id: str, name: str, spend: str) -> None:
    with store.session() as session:
        session.add(
            CampaignRow(
                id=campaign_id, source="ads", name=name, channel="ads", spend=Decimal(spend)
            )
        )
        session.commit()
