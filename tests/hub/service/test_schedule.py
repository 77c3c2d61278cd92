"""A connection's schedule, as APScheduler triggers and as the worker's "is it due?"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.config import Schedule
from hub.service.schedule import is_due, trigger

NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)


def test_every_becomes_an_interval_with_its_jitter() -> None:
    made = trigger(Schedule.model_validate({"every": "5m", "jitter": "30s"}))
    assert isinstance(made, IntervalTrigger)
    assert (made.interval, made.jitter) == (timedelta(minutes=5), 30)


def test_cron_becomes_a_cron_trigger_with_its_jitter() -> None:
    made = trigger(Schedule.model_validate({"cron": "0 3 * * *", "jitter": "1m"}))
    assert isinstance(made, CronTrigger)
    assert made.jitter == 60
    assert str(made.fields[5]) == "3"  # hour


@pytest.mark.parametrize(
    ("schedule", "last_start", "due"),
    [
        ({"every": "5m"}, None, True),
        ({"every": "5m"}, NOW - timedelta(minutes=4, seconds=59), False),
        ({"every": "5m"}, NOW - timedelta(minutes=5), True),
        ({"cron": "* * * * *"}, NOW - timedelta(seconds=20), False),
        ({"cron": "* * * * *"}, NOW - timedelta(seconds=61), True),
        ({"cron": "0 0 1 1 *"}, NOW - timedelta(days=1), False),
    ],
)
def test_is_due(schedule: dict[str, str], last_start: datetime | None, due: bool) -> None:
    assert is_due(Schedule.model_validate(schedule), last_start, NOW) is due
