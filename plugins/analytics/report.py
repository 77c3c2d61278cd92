"""The analytics sections of ``crmhub report``: KPIs, RFM, CLV, cohorts, channels."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hub.plugins import ReportSection
from plugins.analytics import portfolio
from plugins.analytics.charts import bar_chart, heat_grid, histogram

__all__ = ["report_sections"]


def report_sections(session: Session, as_of: datetime) -> list[ReportSection]:
    return [
        _kpis(session),
        _rfm(session),
        _clv(session),
        _cohorts(session),
        _acquisition(session),
        _conversion(session, as_of),
    ]


def _kpis(session: Session) -> ReportSection:
    k = portfolio.kpis(session)
    rows = [
        ("customers", k.customers),
        ("buyers", k.buyers),
        ("orders", k.orders),
        ("revenue", k.revenue),
        ("profit", k.profit),
        ("ARPU (revenue per customer)", k.arpu),
        ("average order value", k.average_order),
        ("average historical CLV", k.clv_historical),
        ("average predicted CLV", k.clv_predicted),
        ("average churn risk", k.churn_risk),
        ("metrics computed at", k.computed_at),
    ]
    return ReportSection("Portfolio KPIs", ("figure", "value"), rows)


def _rfm(session: Session) -> ReportSection:
    grid = portfolio.rfm_grid(session)
    scores = sorted({r for r, _ in grid} | {f for _, f in grid})
    labels = [str(s) for s in scores]
    rows = [(r, *(grid.get((r, f), 0) for f in scores)) for r in reversed(scores)]
    chart = heat_grid(
        {(str(r), str(f)): float(n) for (r, f), n in grid.items()},
        list(reversed(labels)),
        labels,
    )
    return ReportSection(
        "RFM grid (buyers per recency score R and frequency score F)",
        ("R \\ F", *labels),
        rows,
        chart,
    )


def _clv(session: Session) -> ReportSection:
    values = sorted(portfolio.clv_values(session))
    rows: list[tuple[str, object]] = []
    if values:
        for share in (0.1, 0.25, 0.5, 0.75, 0.9):
            rows.append((f"p{int(share * 100)}", round(values[int(share * (len(values) - 1))], 2)))
        rows.append(("max", round(values[-1], 2)))
    return ReportSection(
        "Historical CLV distribution", ("percentile", "CLV"), rows, histogram(values)
    )


def _cohorts(session: Session) -> ReportSection:
    table = portfolio.cohort_retention(session)
    months = [f"M{i}" for i in range(12)]
    cells = {
        (cohort, months[i]): share
        for cohort, shares in table.items()
        for i, share in enumerate(shares)
    }
    rows = [(cohort, *(f"{share:.0%}" for share in shares)) for cohort, shares in table.items()]
    return ReportSection(
        "Cohort retention (share of each first-order month buying N months later)",
        ("cohort", *months),
        rows,
        heat_grid(cells, list(table), months),
    )


def _acquisition(session: Session) -> ReportSection:
    rows = portfolio.acquisition_by_channel(session)
    chart = bar_chart([(channel, float(revenue)) for channel, _, revenue, _ in rows])
    return ReportSection(
        "Revenue by acquisition channel",
        ("channel", "customers", "revenue", "acquisition cost per customer"),
        rows,
        chart,
    )


def _conversion(session: Session, as_of: datetime) -> ReportSection:
    return ReportSection(
        "Conversion by channel (footfall to buyers)",
        ("channel", "visits", "identified visitors", "buyers", "conversion"),
        portfolio.conversion_by_channel(session, as_of),
    )
