"""Testing connectors: vendor sandboxes, faults on demand, fake data, and the test kit.

Connectors import their sandbox base from here whenever they are loaded, so
this list stays light: serving on loopback (:mod:`hub.testing.serve`, which
imports uvicorn) and the test kit (:mod:`hub.testing.kit`, which needs pytest)
are imported from their own modules.
"""

from hub.testing.fake import DEFAULT_LOCALES, FakePerson, fake_people
from hub.testing.faults import Fault, FaultPlan
from hub.testing.limits import FixedWindow, RateLimit, Verdict
from hub.testing.registry import find_sandbox, sandbox_of, sandboxes
from hub.testing.samples import sample_customers
from hub.testing.sandbox import BASE_URL, Sandbox
from hub.testing.transport import SandboxTransport

__all__ = [
    "BASE_URL",
    "DEFAULT_LOCALES",
    "FakePerson",
    "Fault",
    "FaultPlan",
    "FixedWindow",
    "RateLimit",
    "Sandbox",
    "SandboxTransport",
    "Verdict",
    "fake_people",
    "find_sandbox",
    "sample_customers",
    "sandbox_of",
    "sandboxes",
]
