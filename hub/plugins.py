"""Plugin hooks and discovery.

Everything that extends crmhub, our built-in connectors included, arrives
through the entry-point groups below and registers hook implementations with
one pluggy PluginManager. The core therefore imports no connector by name, and a
third-party package is a first-class citizen.

A plugin that fails to import is reported as a warning naming its package and
the error; every other plugin keeps working.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import pluggy

from hub.connector import Connector
from hub.errors import PluginError

if TYPE_CHECKING:
    from hub.config import HubConfig
    from hub.store.database import Store

__all__ = [
    "ENTRY_POINT_GROUPS",
    "HookSpecs",
    "PluginFailure",
    "Plugins",
    "Refresh",
    "RefreshResult",
    "ReportSection",
    "hookimpl",
    "hookspec",
    "load_plugins",
]

PROJECT = "crmhub"
ENTRY_POINT_GROUPS = ("crmhub.connectors", "crmhub.plugins")

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

log = logging.getLogger(__name__)


class HookSpecs:
    """The hooks a crmhub plugin may implement. Each docstring is the contract."""

    @hookspec
    def crmhub_connectors(self) -> list[type[Connector]]:  # type: ignore[empty-body]
        """Return the connector classes this plugin provides.

        Each class must subclass :class:`hub.connector.Connector` and carry a
        ``name`` unique across all installed plugins; that name is what a config
        file writes under ``connector:``.
        """

    @hookspec
    def crmhub_refresh(self, refresh: Refresh) -> RefreshResult | None:
        """Bring data derived from the store up to date as of ``refresh.as_of``.

        Called by ``crmhub segments evaluate`` (and after pulls, by a plugin's
        :meth:`crmhub_after_pull`), once per plugin, in pluggy's order: a
        plugin whose results others read marks its implementation
        ``tryfirst`` (metrics before segments), one that acts on others'
        results ``trylast`` (triggers). An implementation does its work in
        SQL over the store, commits it, and returns counts for the CLI to
        show, or None when it had nothing to do. It must be safe to call again
        at any time: a second call with nothing changed writes nothing.
        """

    @hookspec
    def crmhub_after_pull(self, refresh: Refresh, changed: bool) -> RefreshResult | None:
        """React to the pulls of a sync pass, before its pushes.

        The engine calls this once after the pull phase of ``crmhub sync`` and
        of every scheduled or webhook-driven pull of the service, with
        ``changed`` true when a pull created, updated, merged or deleted
        anything. What an implementation queues in the outbox then goes out
        with the same pass's pushes (or the service's next drain). It must be
        cheap when it has nothing to do, and it must not fail the pass: the
        engine logs an exception it raises and goes on.
        """

    @hookspec
    def crmhub_report_sections(  # type: ignore[empty-body]
        self, store: Store, config: HubConfig, as_of: datetime
    ) -> list[ReportSection]:
        """Return the sections this plugin adds to ``crmhub report``.

        Each section is a titled table (and optionally an inline SVG chart for
        the HTML report) computed from what is in the store; reading only, it
        never writes. Sections of all plugins appear in hook order.
        """


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, kept so the CLI can show it."""

    group: str
    name: str
    package: str
    error: str

    def __str__(self) -> str:
        return (
            f"plugin {self.name!r} from package {self.package!r} ({self.group}) "
            f"could not be loaded: {self.error}"
        )


@dataclass(frozen=True)
class Refresh:
    """What a :meth:`HookSpecs.crmhub_refresh` call works on."""

    store: Store
    config: HubConfig
    plugins: Plugins
    as_of: datetime


@dataclass(frozen=True)
class RefreshResult:
    """What one plugin's refresh did, as counts a person can read."""

    plugin: str
    counts: dict[str, int]


@dataclass(frozen=True)
class ReportSection:
    """One table of ``crmhub report``; ``chart`` is inline SVG for the HTML report."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    chart: str | None = None


@dataclass
class Plugins:
    """The loaded plugins: the pluggy manager plus what it provides."""

    manager: pluggy.PluginManager
    connectors: dict[str, type[Connector]] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def connector(self, name: str) -> type[Connector]:
        try:
            return self.connectors[name]
        except KeyError:
            known = ", ".join(sorted(self.connectors)) or "none"
            raise PluginError(
                f"no connector named {name!r} is installed (installed: {known})"
            ) from None

    def refresh(self, store: Store, config: HubConfig, as_of: datetime) -> list[RefreshResult]:
        """Run every plugin's refresh in hook order; return what each did."""
        results = self.manager.hook.crmhub_refresh(
            refresh=Refresh(store=store, config=config, plugins=self, as_of=as_of)
        )
        return list(results)

    def after_pull(
        self, store: Store, config: HubConfig, as_of: datetime, *, changed: bool
    ) -> list[RefreshResult]:
        """Run every plugin's after-pull hook; return what each did."""
        results = self.manager.hook.crmhub_after_pull(
            refresh=Refresh(store=store, config=config, plugins=self, as_of=as_of),
            changed=changed,
        )
        return list(results)

    def report_sections(
        self, store: Store, config: HubConfig, as_of: datetime
    ) -> list[ReportSection]:
        sections = self.manager.hook.crmhub_report_sections(store=store, config=config, as_of=as_of)
        return [section for found in sections for section in found]


def load_plugins(extra: Iterable[object] = ()) -> Plugins:
    """Discover plugins from entry points, register ``extra`` objects too.

    ``extra`` lets tests and embedding applications register a plugin object
    without packaging it.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    failures: list[PluginFailure] = []
    for group in ENTRY_POINT_GROUPS:
        for entry_point in entry_points(group=group):
            failure = _register_entry_point(manager, group, entry_point)
            if failure is not None:
                log.warning("%s", failure)
                failures.append(failure)
    for plugin in extra:
        manager.register(plugin)
    plugins = Plugins(manager=manager, failures=failures)
    plugins.connectors = _collect_connectors(manager)
    return plugins


def _register_entry_point(
    manager: pluggy.PluginManager, group: str, entry_point: EntryPoint
) -> PluginFailure | None:
    package = entry_point.dist.name if entry_point.dist else entry_point.value
    if manager.has_plugin(entry_point.name):
        return None
    try:
        plugin = entry_point.load()
        manager.register(plugin, name=entry_point.name)
    except Exception as exc:  # a broken plugin must not take the others down
        return PluginFailure(group, entry_point.name, package, f"{type(exc).__name__}: {exc}")
    return None


def _collect_connectors(manager: pluggy.PluginManager) -> dict[str, type[Connector]]:
    found: dict[str, type[Connector]] = {}
    for classes in manager.hook.crmhub_connectors():
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, Connector)):
                raise PluginError(
                    f"crmhub_connectors returned {cls!r}, which is not a subclass of "
                    "hub.connector.Connector"
                )
            if cls.name in found and found[cls.name] is not cls:
                raise PluginError(
                    f"two plugins provide a connector named {cls.name!r}: "
                    f"{found[cls.name].__module__} and {cls.__module__}; uninstall one"
                )
            found[cls.name] = cls
    return found
