"""The analytics plugin's hook implementations, registered through ``crmhub.plugins``."""

from __future__ import annotations

from datetime import datetime

from hub.config import HubConfig
from hub.engine.runner import subscribers
from hub.plugins import Refresh, RefreshResult, ReportSection, hookimpl
from hub.store.database import Store
from plugins.analytics.affinity import next_best_products
from plugins.analytics.auto import refresh_after_pull
from plugins.analytics.metrics import MetricsSettings, compute_metrics
from plugins.analytics.publish import CUSTOMER_STREAM, publish_recommendations
from plugins.analytics.recommend import recommendations
from plugins.analytics.report import report_sections

__all__ = ["crmhub_after_pull", "crmhub_refresh", "crmhub_report_sections"]


@hookimpl(tryfirst=True)
def crmhub_refresh(refresh: Refresh) -> RefreshResult:
    """Metrics first: segments and triggers read them."""
    # scipy takes seconds to import; only this hook needs it, so load it here
    # rather than in every crmhub command that discovers the plugins.
    from plugins.analytics.predict import predict_clv

    settings = refresh.config.analytics
    with refresh.store.session() as session:
        rows = compute_metrics(session, refresh.as_of, MetricsSettings(bins=settings.rfm_bins))
        predicted = predict_clv(session, horizon_days=settings.clv_horizon.days)
        recommended = next_best_products(
            session, min_support=settings.min_support, min_lift=settings.min_lift
        )
        targets = subscribers(refresh.config, refresh.plugins, CUSTOMER_STREAM)
        published = publish_recommendations(
            session, recommendations(session), refresh.as_of, targets
        )
        session.commit()
    counts = {
        "customers": rows,
        "predicted": predicted,
        "recommended": recommended,
        "recommendations changed": published,
    }
    return RefreshResult("analytics", counts)


@hookimpl(tryfirst=True)
def crmhub_report_sections(store: Store, config: HubConfig, as_of: datetime) -> list[ReportSection]:
    with store.session() as session:
        return report_sections(session, as_of)


@hookimpl
def crmhub_after_pull(refresh: Refresh, changed: bool) -> RefreshResult | None:
    """Metrics, segments and triggers after a sync's pulls, when the config asks for it."""
    return refresh_after_pull(refresh, changed)
