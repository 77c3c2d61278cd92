"""The segments plugin's hook implementations, registered through ``crmhub.plugins``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from hub.config import HubConfig, SegmentConfig
from hub.engine.hashing import digest
from hub.plugins import Refresh, RefreshResult, ReportSection, hookimpl
from hub.store.database import Store
from hub.store.tables import HubSetting
from plugins.segments.evaluate import evaluate_segment, is_static
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
            started = datetime.now(UTC)
            since = _watermark(session, name, segment)
            result = evaluate_segment(session, name, segment, refresh.as_of, changed_since=since)
            _set_watermark(session, name, segment, started)
            counts["joined"] += result.joined
            counts["left"] += result.left
            counts["queued"] += result.queued
        session.commit()
    return RefreshResult("segments", counts)


def _rules_digest(segment: SegmentConfig) -> str:
    return digest(segment.model_dump(mode="json", include={"rules"}))


def _watermark(session: Session, name: str, segment: SegmentConfig) -> datetime | None:
    """When a static segment was last evaluated with these same rules; None: evaluate in full."""
    setting = session.get(HubSetting, f"segment:{name}")
    if setting is None or not is_static(segment):
        return None
    saved = json.loads(setting.value)
    if saved.get("rules") != _rules_digest(segment):
        return None
    return datetime.fromisoformat(saved["evaluated_at"])


def _set_watermark(session: Session, name: str, segment: SegmentConfig, at: datetime) -> None:
    """Taken before the evaluation's queries, so a change made during one is seen next time."""
    value = json.dumps({"rules": _rules_digest(segment), "evaluated_at": at.isoformat()})
    session.merge(HubSetting(key=f"segment:{name}", value=value))


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
