"""The fault plan: which request gets which fault, and a log that proves it was served."""

from __future__ import annotations

import pytest

from hub.testing.faults import Fault, FaultPlan, Served


def _serve(plan: FaultPlan, requests: list[tuple[str, str]]) -> list[Fault | None]:
    return [plan.take(method, path) for method, path in requests]


def test_a_fault_is_served_once_to_the_first_matching_request() -> None:
    plan = FaultPlan()
    plan.add(Fault.error(503), path="/api/v1/contacts*")
    served = _serve(
        plan, [("GET", "/health"), ("GET", "/api/v1/contacts/7"), ("GET", "/api/v1/contacts")]
    )
    assert served == [None, Fault.error(503), None]
    assert plan.served == [Served(Fault.error(503), "GET", "/api/v1/contacts/7")]
    assert plan.pending == 0


def test_after_lets_matching_requests_through_and_times_repeats() -> None:
    plan = FaultPlan()
    plan.add(Fault.throttle(5), method="get", times=2, after=1)
    served = _serve(
        plan, [("POST", "/x"), ("GET", "/x"), ("GET", "/x"), ("GET", "/x"), ("GET", "/x")]
    )
    assert served == [None, None, Fault.throttle(5), Fault.throttle(5), None]


def test_every_queued_fault_counts_the_requests_it_matches() -> None:
    plan = FaultPlan()
    plan.add(Fault.delay(30))
    plan.add(Fault.truncate(), after=1)
    assert _serve(plan, [("GET", "/a")] * 3) == [Fault.delay(30), Fault.truncate(), None]


def test_pending_counts_servings_not_yet_used_and_clear_forgets() -> None:
    plan = FaultPlan()
    plan.add(Fault.expire_token(), times=3)
    plan.take("GET", "/")
    assert plan.pending == 2
    plan.clear()
    assert (plan.pending, plan.served) == (0, [])


def test_faults_describe_themselves_for_failure_messages() -> None:
    assert [
        str(f)
        for f in (
            Fault.throttle(2),
            Fault.error(502),
            Fault.delay(1.5),
            Fault.truncate(),
            Fault.expire_token(),
        )
    ] == [
        "HTTP 429 (retry after 2 s)",
        "HTTP 502",
        "delay of 1.5 s",
        "truncated body",
        "expired token",
    ]


@pytest.mark.parametrize(
    "bad", [lambda: Fault.error(404), lambda: FaultPlan().add(Fault.truncate(), times=0)]
)
def test_nonsense_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]
