"""Predictive CLV: fit BG/NBD and Gamma-Gamma on the stored metrics, write the predictions.

The fit needs the buyers' (x, t_x, T) at once, so this is the one place that
reads per-customer rows into memory: as numpy arrays in one query, fitted on
a sample, predicted vectorised for everyone, written back in one executemany.
Times are in weeks inside the fit (the unit of the published CDNOW
parameters, and well scaled for the optimiser); the horizon is given in days.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from hub.store.tables import CustomerMetrics, table_of
from plugins.analytics.btyd import fit_bgnbd, fit_gamma_gamma

__all__ = ["FIT_SAMPLE", "MIN_BUYERS", "MIN_REPEAT_BUYERS", "predict_clv", "prediction"]

METRICS = table_of(CustomerMetrics)
#: Below these counts the fit says more about the optimiser than the customers.
MIN_BUYERS = 50
MIN_REPEAT_BUYERS = 10
#: The models have 4 and 3 population parameters: a random sample of this many
#: buyers pins them down as well as all of them, at a fraction of the time.
FIT_SAMPLE = 50_000


def predict_clv(session: Session, *, horizon_days: int) -> int:
    """Fill p_alive, expected_purchases and clv_predicted for every buyer; return rows."""
    rows = session.execute(
        select(
            METRICS.c.hub_id,
            METRICS.c.repeat_purchases,
            METRICS.c.tenure_days,
            METRICS.c.recency_days,
            METRICS.c.average_order,
        ).where(METRICS.c.frequency > 0)
    ).all()
    if len(rows) < MIN_BUYERS:
        return 0
    x = np.array([row.repeat_purchases for row in rows], dtype=np.float64)
    if int(np.count_nonzero(x)) < MIN_REPEAT_BUYERS:
        return 0
    T = np.array([row.tenure_days for row in rows], dtype=np.float64) / 7
    t_x = T - np.array([row.recency_days for row in rows], dtype=np.float64) / 7
    value = np.array([float(row.average_order or 0) for row in rows], dtype=np.float64)
    fit = np.random.default_rng(0).permutation(len(rows))[:FIT_SAMPLE]
    model = fit_bgnbd(x[fit], t_x[fit], T[fit])
    spend = fit_gamma_gamma(x[fit], value[fit])
    purchases = model.expected_purchases(horizon_days / 7, x, t_x, T)
    alive = model.p_alive(x, t_x, T)
    clv = purchases * spend.expected_value(x, value) * _margin(session)
    session.execute(
        update(METRICS)
        .where(METRICS.c.hub_id == bindparam("b_hub_id"))
        .values(
            p_alive=bindparam("b_alive"),
            expected_purchases=bindparam("b_purchases"),
            clv_predicted=bindparam("b_clv"),
        ),
        [
            {"b_hub_id": row.hub_id, **prediction(float(alive[i]), float(purchases[i]), clv[i])}
            for i, row in enumerate(rows)
        ],
    )
    return len(rows)


def prediction(alive: float, purchases: float, clv: float) -> dict[str, Any]:
    """One customer's values as bind parameters; a non-finite one is stored as NULL.

    Data the model fits badly drives parameters to their bounds, where the
    hypergeometric term overflows: such customers get no prediction rather
    than failing the whole refresh.
    """

    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None

    money = finite(clv)
    return {
        "b_alive": finite(alive),
        "b_purchases": finite(purchases),
        "b_clv": None if money is None else Decimal(f"{money:.4f}"),
    }


def _margin(session: Session) -> float:
    """The portfolio's profit per unit of revenue, so predicted CLV is in profit, not sales."""
    revenue, profit = session.execute(
        select(func.sum(METRICS.c.revenue), func.sum(METRICS.c.profit))
    ).one()
    if not revenue:
        return 1.0
    return float(min(max(Decimal(profit or 0) / Decimal(revenue), Decimal(0)), Decimal(1)))
