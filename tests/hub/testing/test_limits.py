"""The fixed window a sandbox enforces: counted on the sandbox clock, reported in headers."""

from __future__ import annotations

import pytest

from hub.http import VirtualClock
from hub.testing.limits import FixedWindow

pytestmark = pytest.mark.anyio


async def test_a_window_allows_its_limit_then_refuses_until_it_resets() -> None:
    clock = VirtualClock()
    window = FixedWindow(3, 10, clock=clock)
    verdicts = [window.admit() for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.headers["X-RateLimit-Remaining"] for v in verdicts] == ["2", "1", "0", "0"]
    assert verdicts[3].retry_after == 10 and window.refused == 1
    await clock.sleep(9.5)
    late = window.admit()
    assert not late.allowed and late.headers["X-RateLimit-Reset"] == "1"
    await clock.sleep(0.5)
    assert window.admit().allowed


async def test_idle_windows_are_skipped_whole() -> None:
    clock = VirtualClock()
    window = FixedWindow(1, 10, clock=clock)
    window.admit()
    await clock.sleep(35)
    verdict = window.admit()
    assert verdict.allowed and verdict.headers["X-RateLimit-Reset"] == "5"


def test_header_names_follow_the_vendor() -> None:
    window = FixedWindow(
        5,
        60,
        clock=VirtualClock(),
        names=("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"),
    )
    assert window.admit().headers == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "4",
        "RateLimit-Reset": "60",
    }
