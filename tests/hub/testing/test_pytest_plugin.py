"""The kit as a connector author's pytest run sees it: collected, parametrized, reported.

A subclass is all a test module needs; the plugin (the ``pytest11`` entry
point, which pip installs with crmhub) makes failed checks show the values they
compared. Declared checks are reported as skipped with the author's reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[3]
MODULE = """
from pydantic import SecretStr
from connectors.example.config import ExampleConfig
from connectors.example.connector import ExampleConnector
from connectors.example.sandbox import TOKEN, ExampleSandbox
from hub.http import VirtualClock
from hub.testing.kit import ConnectorTestKit
from hub.testing.sandbox import BASE_URL


class ForgetsCursor(ExampleConnector):
    def read(self, stream, cursor):
        return super().read(stream, None)


class Kit(ConnectorTestKit[ExampleSandbox]):
    unsupported = {"faults": "checked elsewhere, this is a demo"}

    def make_sandbox(self, tmp_path):
        return ExampleSandbox(clock=VirtualClock())

    def make_connector(self, sandbox):
        config = ExampleConfig(base_url=BASE_URL, api_token=SecretStr(TOKEN), page_size=10)
        return self.connector_class(
            config, connection="kit", transport=sandbox.transport(), clock=sandbox.clock
        )


class TestSound(Kit):
    connector_class = ExampleConnector


class TestBroken(Kit):
    connector_class = ForgetsCursor
"""


def test_a_subclass_runs_the_suite_and_reports_every_outcome(tmp_path: Path) -> None:
    (tmp_path / "test_acme.py").write_text(MODULE)
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "test_acme.py", "-rfs", "-p", "no:cacheprovider"),
            *("-k", "resumes or faults"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 1, run.stdout
    assert "1 failed, 1 passed, 10 skipped" in summary, run.stdout
    assert "FAILED test_acme.py::TestBroken::test_resumes_from_the_saved_cursor[customers]" in (
        run.stdout
    )
    assert (
        "TestSound::test_survives_faults[customers-timeout]" not in run.stdout
    )  # skipped, quietly
    assert "example declares 'faults' unsupported: checked elsewhere, this is a demo" in run.stdout
    assert "assert not ['read twice" in run.stdout  # rewritten by the plugin: the values show
