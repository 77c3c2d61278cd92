"""The records the Meta sandbox serves: leads as the leads edge returns them, insights rows.

Shapes follow the Graph API reference for the Lead object (``field_data`` as
``{name, values}``, ``custom_disclaimer_responses`` as ``{checkbox_key,
is_checked}``, ``platform`` ``fb``/``ig``) and for Ads Insights (figures as
strings, leads inside ``actions``, ``account_currency``). Each form belongs to
one of two campaigns of three ad sets, whose figures are fixed so that tests
can add them up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.meta.mapping import Lead

__all__ = ["insights_rows", "new_lead"]

Row = dict[str, Any]


def new_lead(
    lead_id: str,
    form_id: str,
    answers: dict[str, str],
    created: datetime,
    *,
    platform: str,
    opted_in: bool,
) -> Lead:
    campaign = 1 + int(form_id) % 2
    return {
        "id": lead_id,
        "created_time": created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "ad_id": f"2384{campaign}0001",
        "ad_name": f"Ad {campaign}",
        "adset_id": f"2384{campaign}1001",
        "adset_name": f"Ad set {campaign}",
        "campaign_id": f"2384{campaign}2001",
        "campaign_name": f"Spring leads {campaign}",
        "form_id": form_id,
        "platform": platform,
        "is_organic": False,
        "field_data": [{"name": key, "values": [value]} for key, value in answers.items()],
        "custom_disclaimer_responses": [
            {"checkbox_key": "marketing_email", "is_checked": "1" if opted_in else ""}
        ],
    }


def insights_rows(now: datetime, currency: str) -> dict[str, list[Row]]:
    """Lifetime rows per level; a campaign's figures are the sum of its ad sets'."""
    rows: dict[str, list[Row]] = {"campaign": [], "adset": []}
    for campaign in (1, 2):
        totals: list[Decimal] = [Decimal(0)] * 4
        for adset in (1, 2, 3):
            figures = (
                Decimal(f"{campaign * 10 + adset}.25"),
                Decimal(1000 * adset),
                Decimal(40 * adset),
                Decimal(adset),
            )
            totals = [a + b for a, b in zip(totals, figures, strict=True)]
            rows["adset"].append(
                _row(campaign, figures, now, currency)
                | {
                    "adset_id": f"2384{campaign}100{adset}",
                    "adset_name": f"Ad set {campaign}.{adset}",
                }
            )
        rows["campaign"].append(_row(campaign, tuple(totals), now, currency))
    return rows


def _row(campaign: int, figures: tuple[Decimal, ...], now: datetime, currency: str) -> Row:
    spend, impressions, clicks, leads = figures
    return {
        "campaign_id": f"2384{campaign}2001",
        "campaign_name": f"Spring leads {campaign}",
        "account_currency": currency,
        "spend": f"{spend:.2f}",
        "impressions": str(impressions),
        "clicks": str(clicks),
        "actions": [
            {"action_type": "link_click", "value": str(clicks)},
            {"action_type": "lead", "value": str(leads)},
        ],
        "date_start": (now - timedelta(days=30)).date().isoformat(),
        "date_stop": now.date().isoformat(),
    }
