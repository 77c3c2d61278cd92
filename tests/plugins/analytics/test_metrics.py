"""Per-customer metrics over real rows, against figures worked out by hand.

The portfolio below (as of 2026-12-01, quintiles) is small enough to rank on
paper; the expected scores and segments are that paper, not the code's output.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from hub.store.database import Store
from hub.store.tables import CustomerMetrics
from plugins.analytics.metrics import MetricsSettings, compute_metrics
from plugins.analytics.rfm import segment_of
from tests.plugins.seed import campaign, customer, day, interaction, order

AS_OF = day("2026-12-01")


@pytest.fixture
def portfolio(store: Store) -> Store:
    customer(store, "A", acquisition={"channel": "ads", "campaign": "spring"})
    customer(store, "B", acquisition={"channel": "organic"})
    customer(store, "C")
    customer(store, "D")
    customer(store, "E", acquisition={"channel": "ads", "campaign": "c-spring"})
    customer(store, "P")
    campaign(store, "c-spring", "spring", "200")
    order(store, "A", "2026-11-01", "50")
    order(store, "A", "2026-11-21", "100", lines=[("shoes", 2, "50", "30")])
    interaction(store, "A", "ticket", "2026-11-25", details={"cost": 5.5})
    order(store, "B", "2026-06-04", "300")
    order(store, "B", "2026-07-04", "999", status="cancelled")
    for placed in ("2025-12-01", "2026-01-01", "2026-02-01"):
        order(store, "C", placed, "20")
    order(store, "D", "2024-12-01", "500")
    order(store, "D", "2025-01-01", "500")
    order(store, "E", "2026-11-30", "40")
    order(store, "E", "2026-12-05", "70")  # after as_of: not yet
    return store


def _metrics(store: Store) -> dict[str, CustomerMetrics]:
    with store.session() as session:
        compute_metrics(session, AS_OF, MetricsSettings(bins=5))
        session.commit()
        return {row.hub_id: row for row in session.exec(select(CustomerMetrics))}


def test_rfm_scores_and_segments_match_the_hand_computed_example(portfolio: Store) -> None:
    metrics = _metrics(portfolio)
    scores = {
        hub_id: (row.r_score, row.f_score, row.m_score, row.rfm_segment)
        for hub_id, row in metrics.items()
    }
    assert scores == {
        "A": (4, 3, 3, "potential_loyalist"),
        "B": (3, 1, 4, "need_attention"),
        "C": (2, 5, 2, "at_risk"),
        "D": (1, 3, 5, "at_risk"),
        "E": (5, 1, 1, "new_customer"),
        "P": (None, None, None, "prospect"),
    }


def test_recency_frequency_and_monetary_ignore_cancelled_and_future_orders(
    portfolio: Store,
) -> None:
    metrics = _metrics(portfolio)
    b, e = metrics["B"], metrics["E"]
    assert (b.frequency, b.revenue, b.recency_days) == (1, Decimal(300), pytest.approx(180))
    assert (e.frequency, e.revenue, e.recency_days) == (1, Decimal(40), pytest.approx(1))
    assert metrics["C"].repeat_purchases == 2
    assert metrics["P"].frequency == 0 and metrics["P"].revenue is None


def test_profitability_takes_cost_of_goods_service_cost_and_acquisition_cost(
    portfolio: Store,
) -> None:
    a = _metrics(portfolio)["A"]
    assert a.cost_of_goods == Decimal(60)  # 2 pairs of shoes at a unit cost of 30
    assert a.service_cost == Decimal("5.5")
    assert a.profit == Decimal("84.5")  # 150 - 60 - 5.5
    assert a.acquisition_cost == Decimal(100)  # 200 spent, two customers acquired
    assert a.clv_historical == Decimal("-15.5")
    assert a.acquisition_channel == "ads"


def test_churn_risk_grows_with_silence_against_the_usual_gap(portfolio: Store) -> None:
    metrics = _metrics(portfolio)
    assert metrics["A"].churn_risk == pytest.approx(10 / (10 + 20))
    portfolio_gap = (20 + 31 + 31) / 3  # A, C and D's mean days between purchases
    assert metrics["B"].churn_risk == pytest.approx(180 / (180 + portfolio_gap))
    assert metrics["P"].churn_risk is None


def test_recomputing_replaces_rows_with_one_computed_at(portfolio: Store) -> None:
    _metrics(portfolio)
    metrics = _metrics(portfolio)
    assert len(metrics) == 6
    assert {row.computed_at for row in metrics.values()} == {AS_OF}


@pytest.mark.parametrize(
    ("scores", "bins", "segment"),
    [
        ((5, 5, 5), 5, "champion"),
        ((1, 1, 1), 5, "lost"),
        ((1, 5, 5), 5, "cant_lose"),
        ((3, 4, 5), 5, "loyal"),
        ((2, 1, 2), 5, "hibernating"),
        ((10, 10, 10), 10, "champion"),
        ((2, 2, 2), 3, "need_attention"),
        ((3, 1, 1), 3, "new_customer"),
        ((1, 3, 3), 3, "cant_lose"),
    ],
)
def test_named_segment_grid(scores: tuple[int, int, int], bins: int, segment: str) -> None:
    assert segment_of(*scores, bins=bins) == segment
