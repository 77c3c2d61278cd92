"""``${ENV_VAR}`` and ``file:PATH`` references: secrets reach the hub, not the file.

A config file gets committed, pasted into tickets and shown on screens, so a
credential must never be written in it. Every field a connector types as
``SecretStr`` has to be a reference; its value arrives wrapped in SecretStr
(so no repr or validation message can show it) and is remembered so the
loader can scrub it from any message that quotes it anyway.

``${VAR}`` works inside any string, e.g. the store URL; only secret fields
accept ``file:``, so a path that happens to start with "file:" stays a path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hub.config.fields import Loc
from hub.plugins import Plugins

__all__ = ["REFERENCE", "Resolved", "resolve_references", "secret_locs"]

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FILE = "file:"
_STORE: Loc = ("store",)
_INLINE = "write {what} as {how} so it stays out of the config file"


@dataclass
class Resolved:
    """The data with references replaced, what went wrong, and what must stay unseen."""

    data: Any
    problems: list[tuple[Loc, str]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def secret_locs(data: Any, plugins: Plugins) -> set[Loc]:
    """Where the file must hold a reference: the SecretStr fields of each connector config,
    and each trigger's webhook secret."""
    if not isinstance(data, dict):
        return set()
    triggers, connections = data.get("triggers"), data.get("connections")
    locs: set[Loc] = {
        ("triggers", name, "webhook", "secret")
        for name, trigger in (triggers.items() if isinstance(triggers, dict) else ())
        if isinstance(trigger, dict) and isinstance(trigger.get("webhook"), dict)
    }
    if not isinstance(connections, dict):
        return locs
    for name, connection in connections.items():
        connector_name = connection.get("connector") if isinstance(connection, dict) else None
        if not isinstance(connector_name, str) or connector_name not in plugins.connectors:
            continue
        model = plugins.connectors[connector_name].config_model
        locs.update(("connections", name, "config", *path) for path in _secret_fields(model))
    return locs


def _secret_fields(model: type[BaseModel], depth: int = 0) -> Iterator[Loc]:
    """Paths of SecretStr fields, into nested models (not lists or maps of them)."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ()
        for option in options or (annotation,):
            key = info.alias or name
            if option is SecretStr:
                yield (key,)
            elif isinstance(option, type) and issubclass(option, BaseModel) and depth < 8:
                yield from ((key, *path) for path in _secret_fields(option, depth + 1))


def resolve_references(
    data: Any, secret_locs: set[Loc], *, base_dir: Path, environ: Mapping[str, str]
) -> Resolved:
    """Replace references in ``data``; collect every problem instead of stopping at one."""
    resolver = _Resolver(secret_locs, base_dir, environ)
    return Resolved(resolver.walk(data, ()), resolver.problems, resolver.secrets)


class _Resolver:
    def __init__(self, secret_locs: set[Loc], base_dir: Path, environ: Mapping[str, str]) -> None:
        self.secret_locs = secret_locs
        self.base_dir = base_dir
        self.environ = environ
        self.problems: list[tuple[Loc, str]] = []
        self.secrets: list[str] = []

    def walk(self, value: Any, loc: Loc) -> Any:
        if loc in self.secret_locs and value is not None:
            return self._secret(value, loc)
        if isinstance(value, dict):
            return {key: self.walk(item, (*loc, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item, (*loc, index)) for index, item in enumerate(value)]
        if isinstance(value, str):
            return self._store(value) if loc == _STORE else self._substitute(value, loc)
        return value

    def _substitute(self, text: str, loc: Loc) -> str:
        unset = [
            name for name in dict.fromkeys(REFERENCE.findall(text)) if name not in self.environ
        ]
        for name in unset:
            self.problems.append((loc, f"environment variable {name} is not set"))
        return text if unset else REFERENCE.sub(lambda match: self.environ[match[1]], text)

    def _secret(self, value: Any, loc: Loc) -> SecretStr:
        text = str(value)
        reference = REFERENCE.fullmatch(text)
        if reference and reference[1] in self.environ:
            return self._reveal(self.environ[reference[1]])
        if reference:
            self.problems.append((loc, f"environment variable {reference[1]} is not set"))
        elif isinstance(value, str) and text.startswith(_FILE):
            return self._read_file(text.removeprefix(_FILE), loc)
        else:
            self.problems.append(
                (loc, _INLINE.format(what="the secret", how="${ENV_VAR} or file:PATH"))
            )
        return SecretStr(text)

    def _read_file(self, written: str, loc: Loc) -> SecretStr:
        path = self.base_dir / Path(self._substitute(written, loc)).expanduser()
        try:
            return self._reveal(path.read_text(encoding="utf-8").rstrip("\r\n"))
        except FileNotFoundError:
            self.problems.append((loc, f"secret file {path} does not exist"))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            self.problems.append((loc, f"cannot read secret file {path}: {reason}"))
        return SecretStr(written)

    def _store(self, url: str) -> str:
        """The store URL may carry a password, which must come from a reference too."""
        try:
            written_password = make_url(url).password
        except ArgumentError:
            written_password = None
        if written_password is not None and not REFERENCE.fullmatch(str(written_password)):
            self.problems.append(
                (_STORE, _INLINE.format(what="the store password", how="${ENV_VAR}"))
            )
        resolved = self._substitute(url, _STORE)
        if written_password is not None:
            self.secrets.extend(self.environ.get(name, "") for name in REFERENCE.findall(url))
        return resolved

    def _reveal(self, secret: str) -> SecretStr:
        self.secrets.append(secret)
        return SecretStr(secret)
