"""A connection's ``schedule:`` as APScheduler triggers, and as "is a run due?".

``crmhub run`` hands the triggers to APScheduler. ``crmhub worker`` has no
long-lived scheduler of its own (any worker may die), so it asks the same
trigger, from the last run in the store, whether the next one is due.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.config import Schedule

__all__ = ["is_due", "trigger"]


def trigger(schedule: Schedule) -> BaseTrigger:
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.every is not None:
        return IntervalTrigger(seconds=schedule.every.total_seconds(), jitter=jitter)
    assert schedule.cron is not None  # the config allows one or the other
    cron = CronTrigger.from_crontab(schedule.cron)
    cron.jitter = jitter
    return cron


def is_due(schedule: Schedule, last_start: datetime | None, now: datetime) -> bool:
    """True when the schedule fires between the last run's start and ``now``.

    A connection that never ran is due at once. Jitter does not apply here:
    the periodic check already spreads the deferrals.
    """
    if last_start is None:
        return True
    if schedule.every is not None:
        return now - last_start >= schedule.every
    assert schedule.cron is not None
    fire = CronTrigger.from_crontab(schedule.cron).get_next_fire_time(None, last_start)
    return fire is not None and fire <= now
