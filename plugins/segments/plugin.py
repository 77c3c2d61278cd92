"""The segments plugin's hook implementations, registered through ``crmhub.plugins``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from hub.config import HubConfig
from hub.plugins import Refresh, RefreshResult, ReportSection, hookimpl
from hub.store.database import Store
from plugins.segments.evaluate import evaluate_segment
from plugins.segments.membership import MEMBERS

__all__ = ["crmhub_refresh", "crmhub_report_sections"]


@hookimpl
def crmhub_refresh(refresh: Refresh) -> RefreshResult | None:
    """After metrics (analytics runs tryfirst), before triggers (trylast)."""
    if not refresh.config.segments:
        return None
    counts = {"joined": 0, "left": 0, "queued": 0}
    with refresh.store.session() as session:
        for name, segment in refresh.config.segments.items():
            result = evaluate_segment(session, name, segment, refresh.as_of)
            counts["joined"] += result.joined
            counts["left"] += result.left
            counts["queued"] += result.queued
        session.commit()
    return RefreshResult("segments", counts)


@hookimpl
def crmhub_report_sections(store: Store, config: HubConfig, as_of: datetime) -> list[ReportSection]:
    del as_of  # sizes are what the last evaluation stored
    with store.session() as session:
        sizes = {
            str(name): int(n)
            for name, n in session.execute(
                select(MEMBERS.c.segment, func.count()).group_by(MEMBERS.c.segment)
            )
        }
    rows = [
        (name, sizes.get(name, 0), ", ".join(config.segments[name].push_to))
        for name in config.segments
    ]
    return [ReportSection("Segment sizes", ("segment", "members", "pushed to"), rows)]
