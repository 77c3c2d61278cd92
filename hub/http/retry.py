"""Sending a request again: when it is allowed, how long to wait, when to give up.

A retried POST can create a second order or contact, so only idempotent methods
are retried unless the caller vouches for the request (an upsert keyed by a
natural key, a GraphQL query). The one exception is a request that never left:
a failed connect cannot have had an effect. Waits follow the vendor's
Retry-After when it gives one, else exponential back-off with jitter so that
many clients recovering from one outage do not return in lockstep.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from hub.errors import RetriableError
from hub.http.clock import Clock

__all__ = ["IDEMPOTENT_METHODS", "RetrySettings", "UnsentError", "retry_after", "retrying"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

log = logging.getLogger("crmhub.http")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Limits per request. ``max_elapsed`` runs from the first failure and includes the waits."""

    max_attempts: int = 5
    max_elapsed: float = 300.0
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 1.0


class UnsentError(RetriableError):
    """The request never reached the vendor (connect failed), so any method may be resent."""


def retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """Seconds the vendor asks us to wait: ``Retry-After`` as delta seconds or HTTP-date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.time())


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    method: str,
    safe_to_retry: bool,
    settings: RetrySettings,
    clock: Clock,
) -> T:
    """Run ``attempt`` until it succeeds, raises a non-retriable error, or the budget ends.

    Giving up raises a :class:`RetriableError` that says how often and how long
    we tried, and why we stopped early (method not idempotent, Retry-After
    beyond the budget), so the engine can schedule the run again.
    """
    allowed = safe_to_retry or method.upper() in IDEMPOTENT_METHODS
    first_failure: float | None = None  # the budget runs from here: waiting for rate-limit
    # budget before a first attempt is not a retry

    def since_first_failure() -> float:
        return 0.0 if first_failure is None else clock.monotonic() - first_failure

    def may_retry(exc: BaseException) -> bool:
        return isinstance(exc, UnsentError) or (allowed and isinstance(exc, RetriableError))

    def wait(state: RetryCallState) -> float:
        nonlocal first_failure
        if first_failure is None:
            first_failure = clock.monotonic()
        hinted = _retry_after_of(state)
        if hinted is not None:
            return hinted
        backoff = settings.initial_wait * 2.0 ** (state.attempt_number - 1)
        return min(settings.max_wait, backoff + random.uniform(0, settings.jitter))

    def stop(state: RetryCallState) -> bool:
        spent = since_first_failure() + (state.upcoming_sleep or 0.0)
        return state.attempt_number >= settings.max_attempts or spent > settings.max_elapsed

    def announce(state: RetryCallState) -> None:
        log.warning(
            "%s (retry %d of %d in %.1f s)",
            _error_of(state),
            state.attempt_number,
            settings.max_attempts - 1,
            state.upcoming_sleep,
        )

    retrier = AsyncRetrying(
        sleep=clock.sleep,
        retry=retry_if_exception(may_retry),
        wait=wait,
        stop=stop,
        before_sleep=announce,
        reraise=True,
    )
    try:
        result: T = await retrier(attempt)
    except RetriableError as exc:
        tries = retrier.statistics.get("attempt_number", 1)
        spent = since_first_failure()
        if not may_retry(exc):
            why = f"not retried: {method} is not idempotent; pass safe_to_retry=True if it is"
        elif exc.retry_after is not None and spent + exc.retry_after > settings.max_elapsed:
            why = f"the vendor asked to wait {exc.retry_after:.0f} s, beyond the retry budget"
        else:
            why = f"gave up after {tries} attempts in {spent:.1f} s"
        raise type(exc)(f"{exc} ({why})", retry_after=exc.retry_after) from None
    return result


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


def _retry_after_of(state: RetryCallState) -> float | None:
    error = _error_of(state)
    return error.retry_after if isinstance(error, RetriableError) else None
