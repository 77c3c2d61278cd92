"""Predictive CLV against the published CDNOW fits (Fader, Hardie and Lee 2005).

The BG/NBD test goes the whole way: CDNOW transactions become hub orders, the
metrics SQL turns them into (x, t_x, T), and the fit must land within 2% of
r=0.243, alpha=4.414, a=0.793, b=2.426. Gamma-Gamma is checked on the
published summary (its mean repeat spend is not a figure the hub stores).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select

from hub.store.database import Store
from hub.store.tables import CustomerMetrics, CustomerRow, OrderRow, table_of
from plugins.analytics.btyd import fit_bgnbd, fit_gamma_gamma
from plugins.analytics.metrics import MetricsSettings, compute_metrics
from plugins.analytics.predict import predict_clv, prediction

CDNOW = Path(__file__).parents[2] / "fixtures" / "cdnow"
CALIBRATION_END = datetime(1997, 9, 30, tzinfo=UTC)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _load_cdnow(store: Store) -> None:
    customers: set[str] = set()
    orders = []
    for number, line in enumerate((CDNOW / "CDNOW_sample.txt").read_text().splitlines()):
        hub_id, _, placed, _, amount = line.split()
        customers.add(hub_id)
        orders.append(
            {
                "id": f"o{number}",
                "customer_hub_id": hub_id,
                "source": "cdnow",
                "placed_at": datetime.strptime(placed, "%Y%m%d").replace(tzinfo=UTC),
                "currency": "USD",
                "total": Decimal(amount),
                "status": "closed",
            }
        )
    with store.session() as session:
        session.execute(
            insert(table_of(CustomerRow)),
            [
                {
                    "hub_id": c,
                    "data": {},
                    "created_at": CALIBRATION_END,
                    "updated_at": CALIBRATION_END,
                }
                for c in sorted(customers)
            ],
        )
        session.execute(insert(table_of(OrderRow)), orders)
        session.commit()


def test_bgnbd_fit_on_cdnow_orders_in_the_store_reproduces_the_published_parameters(
    store: Store,
) -> None:
    _load_cdnow(store)
    with store.session() as session:
        compute_metrics(session, CALIBRATION_END, MetricsSettings())
        predicted = predict_clv(session, horizon_days=39 * 7)
        session.commit()
        rows = session.execute(
            select(
                CustomerMetrics.repeat_purchases,  # type: ignore[arg-type]
                CustomerMetrics.tenure_days,  # type: ignore[arg-type]
                CustomerMetrics.recency_days,  # type: ignore[arg-type]
            )
        ).all()
    assert len(rows) == 2357 and predicted == 2357
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[1] for r in rows], dtype=float) / 7
    t_x = T - np.array([r[2] for r in rows], dtype=float) / 7
    fit = fit_bgnbd(x, t_x, T)
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fit, name) == pytest.approx(published, rel=0.02), name


def test_gamma_gamma_fit_on_the_cdnow_summary_reproduces_the_published_parameters() -> None:
    with (CDNOW / "cdnow_customers_summary_with_transactions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    x = np.array([float(r["x"]) for r in rows])
    zbar = np.array([float(r["zbar"]) for r in rows])
    fit = fit_gamma_gamma(x, zbar)
    for name, published in PUBLISHED_GG.items():
        assert getattr(fit, name) == pytest.approx(published, rel=0.02), name


def test_p_alive_and_expected_purchases_behave_as_the_model_says() -> None:
    model = fit_bgnbd(np.array([0.0, 2, 5, 1]), np.array([0.0, 10, 30, 2]), np.array([40.0] * 4))
    x, t_x, T = np.array([0.0, 3, 3]), np.array([0.0, 30, 5]), np.array([40.0] * 3)
    alive = model.p_alive(x, t_x, T)
    assert alive[0] == 1.0, "BG/NBD: a customer who never repeated cannot have dropped out"
    assert alive[1] > alive[2], "the same purchases, the later last one: more likely alive"
    purchases = model.expected_purchases(52, x, t_x, T)
    assert purchases[1] > purchases[2] > 0


def test_a_prediction_that_overflowed_is_stored_as_null_not_a_failure() -> None:
    assert prediction(0.9, float("nan"), float("inf")) == {
        "b_alive": 0.9,
        "b_purchases": None,
        "b_clv": None,
    }
    assert prediction(1.0, 2.5, 12.34567)["b_clv"] == Decimal("12.3457")
