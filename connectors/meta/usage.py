"""Meta's rate limiting as a sandbox enforces it: usage percentages over a rolling hour.

Meta does not say how many calls remain. Every answer carries how full the
app's and the business use case's one-hour windows are, as whole percentages
of ``call_count``, ``total_cputime`` and ``total_time`` (``X-App-Usage``,
``X-Business-Use-Case-Usage``); past 100 a call is refused with a throttling
error, and the use-case header says in ``estimated_time_to_regain_access``
how many minutes remain. This window counts calls only (CPU and time move
with them) and rounds the way Meta does, down.
"""

from __future__ import annotations

import json
import math
from collections import deque

from hub.http.clock import Clock
from hub.testing.limits import Verdict

__all__ = ["UsageWindow"]

HOUR = 3600.0


class UsageWindow:
    """``calls`` per rolling hour for one app and one business use case."""

    def __init__(
        self, calls: int, *, clock: Clock, business_id: str, use_case: str = "ads_management"
    ) -> None:
        self.calls = calls
        self.clock = clock
        self.business_id = business_id
        self.use_case = use_case
        self.refused = 0
        self._sent: deque[float] = deque()

    def admit(self) -> Verdict:
        now = self.clock.monotonic()
        while self._sent and self._sent[0] <= now - HOUR:
            self._sent.popleft()
        allowed = len(self._sent) < self.calls
        if allowed:
            self._sent.append(now)
        else:
            self.refused += 1
        wait = 0.0 if allowed else self._sent[0] + HOUR - now
        return Verdict(allowed, self.headers(regain_seconds=wait), wait)

    def percent(self) -> int:
        return math.floor(100 * len(self._sent) / self.calls)

    def headers(self, *, regain_seconds: float = 0.0) -> dict[str, str]:
        used = self.percent()
        usage = {"call_count": used, "total_cputime": used, "total_time": used}
        use_case = {
            "type": self.use_case,
            **usage,
            "estimated_time_to_regain_access": math.ceil(regain_seconds / 60),
        }
        return {
            "X-App-Usage": json.dumps(usage),
            "X-Business-Use-Case-Usage": json.dumps({self.business_id: [use_case]}),
        }
