"""hub.testing's public list is honest, and what loads with every connector stays light."""

from __future__ import annotations

import subprocess
import sys

import hub.testing


def test_every_listed_name_exists() -> None:
    assert sorted(hub.testing.__all__) == hub.testing.__all__
    assert all(hasattr(hub.testing, name) for name in hub.testing.__all__)


def test_loading_a_connector_with_a_sandbox_needs_neither_pytest_nor_uvicorn() -> None:
    probe = (
        "import sys, connectors.example.plugin; "
        "print(sorted({'pytest', 'uvicorn'} & set(sys.modules)))"
    )
    printed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert printed.stdout.strip() == "[]", printed.stderr


def test_the_sandbox_command_does_not_need_pytest() -> None:
    probe = "import sys, hub.cli.sandbox_cmd; print('pytest' in sys.modules)"
    printed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert printed.stdout.strip() == "False", printed.stderr
