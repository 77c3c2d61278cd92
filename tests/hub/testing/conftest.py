"""Installing plugins the way pip leaves them, for discovery through entry points."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

Install = Callable[[str, dict[str, str]], Path]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Install:
    """Write a ``.dist-info`` declaring ``crmhub.connectors`` entry points onto sys.path.

    importlib.metadata finds it as it finds a pip-installed package, in this
    process and (through PYTHONPATH) in subprocesses; both are undone after the test.
    """

    def install(dist: str, entry_points: dict[str, str]) -> Path:
        site = tmp_path / "site"
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
        (info / "entry_points.txt").write_text(f"[crmhub.connectors]\n{lines}")
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.getcwd()]))
        return site

    return install
