"""Which sandbox belongs to which connector, found through the installed plugins.

A connector ships its emulator as the ``sandbox`` class attribute, so a
third-party package needs no extra hook: installing it makes
``crmhub sandbox serve NAME`` work.
"""

from __future__ import annotations

from hub.connector import Connector
from hub.errors import PluginError
from hub.plugins import Plugins
from hub.testing.sandbox import Sandbox

__all__ = ["find_sandbox", "sandbox_of", "sandboxes"]


def sandbox_of(connector: type[Connector]) -> type[Sandbox] | None:
    """The sandbox class ``connector`` declares, or None when it ships none."""
    declared = getattr(connector, "sandbox", None)
    if declared is None:
        return None
    if not (isinstance(declared, type) and issubclass(declared, Sandbox)):
        raise PluginError(
            f"connector {connector.name!r} ({connector.__module__}) declares sandbox = "
            f"{declared!r}, which is not a subclass of hub.testing.sandbox.Sandbox"
        )
    return declared


def sandboxes(plugins: Plugins) -> dict[str, type[Sandbox]]:
    """Connector name -> its sandbox, for every installed connector that has one."""
    found = {name: sandbox_of(connector) for name, connector in sorted(plugins.connectors.items())}
    return {name: sandbox for name, sandbox in found.items() if sandbox is not None}


def find_sandbox(plugins: Plugins, name: str) -> type[Sandbox]:
    sandbox = sandbox_of(plugins.connector(name))
    if sandbox is None:
        known = ", ".join(sandboxes(plugins)) or "none"
        raise PluginError(f"connector {name!r} ships no sandbox (sandboxes installed: {known})")
    return sandbox
