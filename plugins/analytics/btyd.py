"""BG/NBD and Gamma-Gamma: the "buy till you die" models behind predictive CLV.

Written on scipy rather than taken from a CLV package: ``lifetimes`` has had
no release since 2020 and is archived, its fork ``btyd`` stopped at a 2022
beta, and ``pymc-marketing`` would bring PyMC and its compiler stack for two
closed-form likelihoods. The formulas are those of Fader, Hardie and Lee,
"Counting Your Customers the Easy Way" (Marketing Science 24(2), 2005) and
"RFM and CLV: Using Iso-Value Curves" (JMR 42(4), 2005), with the notes
"Implementing the BG/NBD model" and "The Gamma-Gamma model of monetary value"
(brucehardie.com). Inputs per customer: ``x`` repeat purchases, ``t_x`` time
of the last one and ``T`` age, both from the first purchase, in any one unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

__all__ = ["BgNbd", "GammaGamma", "fit_bgnbd", "fit_gamma_gamma"]

Array = NDArray[np.float64]
#: Parameters are fitted as logarithms (so they stay positive) within these
#: bounds: L-BFGS-B then converges in about a hundred evaluations, where an
#: unbounded simplex can wander for thousands on data the model fits badly.
LOG_BOUNDS = (-15.0, 15.0)


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def p_alive(self, x: Array, t_x: Array, T: Array) -> Array:
        """Probability that a customer with this history has not dropped out."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x),
            0.0,
        )
        return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)

    def expected_purchases(self, t: float, x: Array, t_x: Array, T: Array) -> Array:
        """E[purchases in the next ``t``] given the history (FHL 2005, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1, z
        )
        return np.asarray(head * tail * self.p_alive(x, t_x, T), dtype=np.float64)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def expected_value(self, x: Array, mean_value: Array) -> Array:
        """E[value of a transaction] given x repeat ones averaging ``mean_value``.

        With x = 0 this is the population mean p*gamma/(q-1).
        """
        p, q, g = self.p, self.q, self.gamma
        return np.asarray((p * (g + x * mean_value)) / (p * x + q - 1), dtype=np.float64)


def _bgnbd_nll(log_params: Array, x: Array, t_x: Array, T: Array) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    second = np.where(
        x > 0,
        betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return float(-np.sum(common + np.logaddexp(first, second)))


def fit_bgnbd(x: Array, t_x: Array, T: Array) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for these customers."""
    result = minimize(
        _bgnbd_nll, x0=np.zeros(4), args=(x, t_x, T), method="L-BFGS-B", bounds=[LOG_BOUNDS] * 4
    )
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbd(r=r, alpha=alpha, a=a, b=b)


def _gg_nll(log_params: Array, x: Array, m: Array) -> float:
    p, q, g = np.exp(log_params)
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(g)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(g + x * m)
    )
    return float(-np.sum(ll))


def fit_gamma_gamma(x: Array, mean_value: Array) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from repeat buyers (x > 0, value > 0)."""
    keep = (x > 0) & (mean_value > 0)
    result = minimize(
        _gg_nll,
        x0=np.zeros(3),
        args=(x[keep], mean_value[keep]),
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * 3,
    )
    p, q, g = (float(v) for v in np.exp(result.x))
    return GammaGamma(p=p, q=q, gamma=g)
