"""crmhub's pytest plugin, loaded through the ``pytest11`` entry point wherever crmhub is installed.

It asks pytest to rewrite the asserts of the kit's checks, so that a failing
check shows the values it compared as well as its message. Running the kit
needs nothing more: subclassing :class:`hub.testing.kit.ConnectorTestKit` in a
test module is enough.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("hub.testing.checks", "hub.testing.harness")
