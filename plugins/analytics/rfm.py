"""RFM scores and the named segments they map to.

Scores are quantiles among buyers: a customer's score on a dimension is
``1 + (rank - 1) * bins // buyers``, where rank counts the buyers strictly
worse on it plus one. Equal values therefore always get equal scores (plain
NTILE would split a run of one-order customers across scores at random).
Recency ranks by the last order date, so the most recent buyers score highest.

The names come from the R score against the combined FM score (the rounded
mean of F and M), both brought linearly onto a 1-5 scale (with 3 bins, scores
1, 2, 3 read as 1, 3, 5), with this grid (rows R,
columns FM); it is the one docs/analytics.md explains:

====  ===============  ==================  ==================  =========  =========
R     FM 1             FM 2                FM 3                FM 4       FM 5
====  ===============  ==================  ==================  =========  =========
5     new_customer     potential_loyalist  potential_loyalist  champion   champion
4     promising        potential_loyalist  potential_loyalist  loyal      champion
3     about_to_sleep   about_to_sleep      need_attention      loyal      loyal
2     hibernating      hibernating         at_risk             at_risk    cant_lose
1     lost             lost                at_risk             at_risk    cant_lose
====  ===============  ==================  ==================  =========  =========

Customers with no order are ``prospect``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, literal

__all__ = ["GRID", "PROSPECT", "SEGMENT_NAMES", "named_segment", "quantile_score", "segment_of"]

PROSPECT = "prospect"
GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new_customer", "potential_loyalist", "potential_loyalist", "champion", "champion"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "champion"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose"),
}
SEGMENT_NAMES = tuple(sorted({name for row in GRID.values() for name in row} | {PROSPECT}))


def segment_of(r_score: int, f_score: int, m_score: int, bins: int = 5) -> str:
    """The named segment of one score triple: the grid lookup in Python, for tests and docs."""
    r5, f5, m5 = (_to_five(score, bins) for score in (r_score, f_score, m_score))
    return GRID[r5][(f5 + m5 + 1) // 2 - 1]


def _to_five(score: Any, bins: int) -> Any:
    """Map 1..bins linearly onto 1..5, rounding half up; works on ints and SQL expressions."""
    return 1 + ((score - 1) * 8 + bins - 1) // (2 * (bins - 1))


def quantile_score(
    value: ColumnElement[Any], buyers: ColumnElement[bool], bins: int
) -> ColumnElement[int]:
    """The 1..bins score of ``value`` among buyers (higher value, higher score)."""
    rank = func.rank().over(partition_by=buyers, order_by=value)
    count = func.count().over(partition_by=buyers)
    return literal(1) + (rank - 1) * bins // count


def named_segment(
    r_score: ColumnElement[int],
    f_score: ColumnElement[int],
    m_score: ColumnElement[int],
    bins: int,
) -> ColumnElement[str]:
    """The grid as one SQL CASE over the three scores; NULL scores mean a prospect."""
    r5 = _to_five(r_score, bins)
    fm5 = (_to_five(f_score, bins) + _to_five(m_score, bins) + 1) // 2
    cell = r5 * 10 + fm5
    whens = [
        (cell == r * 10 + fm, literal(name))
        for r, row in GRID.items()
        for fm, name in enumerate(row, start=1)
    ]
    return case((r_score.is_(None), literal(PROSPECT)), *whens, else_=literal(PROSPECT))
