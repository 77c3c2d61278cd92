"""Rate limits a sandbox enforces, on its own clock, the way the vendor does.

A limiter on the client side is only proven by a server that refuses what goes
over, so sandboxes keep the vendor's budget and answer 429 when it is spent,
with the headers the vendor sends on every response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from hub.http.clock import Clock

__all__ = ["FixedWindow", "RateLimit", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request fits, the headers to add to its response, and the wait when not."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.0


class RateLimit(Protocol):
    def admit(self) -> Verdict:
        """Count one request against the budget, or refuse it."""
        ...


class FixedWindow:
    """``limit`` requests per window of ``window`` seconds, reported in X-RateLimit-* headers.

    ``X-RateLimit-Reset`` is the whole number of seconds until the window ends;
    a refusal carries ``Retry-After`` with the same number.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock,
        names: tuple[str, str, str] = (
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ),
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.names = names
        self.refused = 0
        self._started = clock.monotonic()
        self._used = 0

    def admit(self) -> Verdict:
        now = self.clock.monotonic()
        if now >= self._started + self.window:
            elapsed_windows = math.floor((now - self._started) / self.window)
            self._started += elapsed_windows * self.window
            self._used = 0
        reset = max(1, math.ceil(self._started + self.window - now))
        allowed = self._used < self.limit
        if allowed:
            self._used += 1
        else:
            self.refused += 1
        limit, remaining, reset_name = self.names
        headers = {
            limit: str(self.limit),
            remaining: str(self.limit - self._used),
            reset_name: str(reset),
        }
        return Verdict(allowed, headers, 0.0 if allowed else float(reset))
