"""The triggers plugin's hook implementations, registered through ``crmhub.plugins``."""

from __future__ import annotations

from hub.plugins import Refresh, RefreshResult, hookimpl
from plugins.triggers.deliver import deliver_pending
from plugins.triggers.fire import fire_trigger

__all__ = ["crmhub_refresh"]


@hookimpl(trylast=True)
def crmhub_refresh(refresh: Refresh) -> RefreshResult | None:
    """Last: triggers act on the orders, metrics and segments the others brought up to date."""
    if not refresh.config.triggers:
        return None
    counts = {"fired": 0, "released": 0}
    with refresh.store.session() as session:
        for name, trigger in refresh.config.triggers.items():
            firing = fire_trigger(session, name, trigger, refresh.as_of)
            counts["fired"] += firing.fired
            counts["released"] += firing.released
        session.commit()
    counts |= deliver_pending(refresh)
    return RefreshResult("triggers", counts)
