"""docs/cli.md is generated from the commands; this keeps it from drifting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).parents[3] / "docs" / "cli.md"
COMMAND = [
    sys.executable,
    "-m",
    "typer",
    "hub.cli",
    "utils",
    "docs",
    "--name",
    "crmhub",
    "--title",
    "crmhub command line reference",
]


def test_cli_reference_is_up_to_date() -> None:
    printed = subprocess.run(COMMAND, capture_output=True, text=True, check=True).stdout
    assert printed.strip() + "\n" == REFERENCE.read_text(), (
        "docs/cli.md is stale; regenerate it with `make docs`"
    )
