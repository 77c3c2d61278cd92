"""Refreshing metrics, segments and triggers after a pull, without a person asking.

The engine calls ``crmhub_after_pull`` once after the pulls of a pass; this
decides whether the pass is worth a refresh. A pull that changed something
always is. One that changed nothing is only when the last refresh is older
than ``analytics.refresh_every``, because date rules (a birthday in the next
seven days, no order for two years) move with the calendar alone. The time
of the last refresh is kept in the store, so the service's many small pulls
and a restart share it.
"""

from __future__ import annotations

from datetime import datetime

from hub.config import HubConfig
from hub.plugins import Refresh, RefreshResult
from hub.store.tables import HubSetting

__all__ = ["LAST_REFRESH", "enabled", "refresh_after_pull"]

LAST_REFRESH = "analytics:refreshed_at"


def enabled(config: HubConfig) -> bool:
    """The config switch; unset means on when there is something to act on."""
    switch = config.analytics.refresh_after_sync
    if switch is not None:
        return switch
    return bool(config.segments or config.triggers)


def refresh_after_pull(refresh: Refresh, changed: bool) -> RefreshResult | None:
    """Run every plugin's refresh when it is due; record when it ran."""
    if not enabled(refresh.config):
        return None
    with refresh.store.session() as session:
        setting = session.get(HubSetting, LAST_REFRESH)
        last = datetime.fromisoformat(setting.value) if setting is not None else None
    if (
        not changed
        and last is not None
        and refresh.as_of - last < refresh.config.analytics.refresh_every
    ):
        return None
    results = refresh.plugins.refresh(refresh.store, refresh.config, refresh.as_of)
    with refresh.store.session() as session:
        session.merge(HubSetting(key=LAST_REFRESH, value=refresh.as_of.isoformat()))
        session.commit()
    counts = {f"{r.plugin} {key}": value for r in results for key, value in r.counts.items()}
    return RefreshResult("refresh", counts)
