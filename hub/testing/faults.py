"""Faults a sandbox serves on demand: throttling, outages, stalls, cut bodies, expired tokens.

A test (or a person trying the demo) queues faults for the next requests that
match a path; the sandbox serves each one once, in order. The plan keeps a log
of what it served, so a test can assert that the client really met the fault
instead of passing because the fault never came.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

__all__ = ["Fault", "FaultKind", "FaultPlan", "Served"]

FaultKind = Literal["throttle", "error", "delay", "truncate", "expire_token"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour; build it with the class methods, which say what each means."""

    kind: FaultKind
    status: int | None = None
    seconds: float = 0.0

    @classmethod
    def throttle(cls, retry_after: float = 1.0) -> Fault:
        """HTTP 429 in the vendor's words, asking the client to wait ``retry_after`` seconds."""
        return cls("throttle", 429, retry_after)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        """A server-side failure (500, 502, 503 ...) with the vendor's error body."""
        if status < 500:
            raise ValueError(
                f"Fault.error is for 5xx outages, not {status}; use the vendor's own route"
            )
        return cls("error", status)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally, but only after ``seconds``: past the client's timeout, it gives up."""
        return cls("delay", None, seconds)

    @classmethod
    def truncate(cls) -> Fault:
        """Send the status, headers and half the body, then drop the connection."""
        return cls("truncate")

    @classmethod
    def expire_token(cls) -> Fault:
        """Refuse the credentials as expired, in the vendor's words (usually 401)."""
        return cls("expire_token")

    def __str__(self) -> str:
        if self.kind == "throttle":
            return f"HTTP 429 (retry after {self.seconds:g} s)"
        if self.kind == "error":
            return f"HTTP {self.status}"
        if self.kind == "delay":
            return f"delay of {self.seconds:g} s"
        return "truncated body" if self.kind == "truncate" else "expired token"


@dataclass(frozen=True, slots=True)
class Served:
    """A fault the sandbox applied, and to which request."""

    fault: Fault
    method: str
    path: str


@dataclass(slots=True)
class _Queued:
    fault: Fault
    path: str
    method: str | None
    skip: int
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatchcase(path, self.path)


@dataclass
class FaultPlan:
    """Faults waiting for requests, first queued first served."""

    served: list[Served] = field(default_factory=list)
    _queue: list[_Queued] = field(default_factory=list)

    def add(
        self,
        fault: Fault,
        *,
        path: str = "*",
        method: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Serve ``fault`` to ``times`` requests matching ``path`` (a glob) and ``method``.

        ``after`` lets that many matching requests through first, so a fault can
        hit the middle of a stream rather than its first page.
        """
        if times < 1 or after < 0:
            raise ValueError("times must be at least 1 and after at least 0")
        upper = method.upper() if method else None
        self._queue.append(_Queued(fault, path, upper, after, times))

    def take(self, method: str, path: str) -> Fault | None:
        """The fault due for this request, if any; serving it uses it up.

        Every queued entry that matches counts the request, whether or not
        another entry's fault is the one served, so ``after`` always means
        "after that many matching requests since the fault was added".
        """
        due: _Queued | None = None
        for entry in self._queue:
            if not entry.matches(method, path):
                continue
            if entry.skip:
                entry.skip -= 1
            elif due is None:
                due = entry
        if due is None:
            return None
        due.remaining -= 1
        if not due.remaining:
            self._queue.remove(due)
        self.served.append(Served(due.fault, method, path))
        return due.fault

    @property
    def pending(self) -> int:
        """How many fault servings are still waiting for a request."""
        return sum(entry.remaining for entry in self._queue)

    def clear(self) -> None:
        self._queue.clear()
        self.served.clear()
