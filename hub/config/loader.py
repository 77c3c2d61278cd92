"""Reading a config file into a HubConfig, or into every reason it is wrong.

Nothing here touches the network or the store, so ``crmhub`` can refuse a bad
file before any run starts. All problems of a file are collected (YAML
structure, references, schema) and reported together, sorted by line, each as
``path:line:column: message`` so editors and CI annotate the right place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_core.core_schema import ErrorType

from hub.config.models import HubConfig
from hub.config.secrets import resolve_references, secret_locs
from hub.config.yamlsource import Position, YamlDocument, YamlSyntaxError, dotted, parse_yaml
from hub.errors import ConfigError
from hub.plugins import Plugins
from hub.redact import scrub

__all__ = ["load_config"]

_PYDANTIC_ERRORS = frozenset(get_args(ErrorType))


def load_config(path: Path, plugins: Plugins) -> HubConfig:
    """Load and validate ``path``; raise ConfigError listing every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError(f"{path}: cannot read the config file: {reason}") from None
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError(_line(path, exc.position, exc.message)) from None
    if not isinstance(document.data, dict):
        found = "nothing" if document.data is None else f"a {type(document.data).__name__}"
        message = f"the file must be a mapping of settings (store, connections ...), not {found}"
        raise ConfigError(_line(path, Position(1, 1), message))

    resolved = resolve_references(
        document.data,
        secret_locs(document.data, plugins),
        base_dir=path.parent,
        environ=os.environ,
    )
    problems = list(document.problems)
    problems += [
        (document.position(loc), f"{dotted(loc)}: {text}") for loc, text in resolved.problems
    ]
    try:
        config = HubConfig.model_validate(
            resolved.data, context={"plugins": plugins, "base_dir": path.parent}
        )
    except ValidationError as exc:
        problems += [_located(document, error) for error in exc.errors()]
    else:
        if not problems:
            return config
    report = "\n".join(_line(path, position, text) for position, text in sorted(set(problems)))
    # Last line of defence: a secret quoted by a connector's own validator is masked.
    raise ConfigError(scrub(report, sorted(resolved.secrets, key=len, reverse=True)))


def _line(path: Path, position: Position, message: str) -> str:
    return f"{path}:{position.line}:{position.column}: {message}"


def _located(document: YamlDocument, error: ErrorDetails) -> tuple[Position, str]:
    """Where a pydantic error belongs in the file, and how to say it to a person."""
    loc = tuple(part for part in error["loc"] if part != "[key]")
    written = document.written(loc)
    parent = dotted(loc[:-1])
    if error["type"] == "unknown_key":
        context = error.get("ctx") or {}
        where = f"in {parent}" if parent else "at the top level"
        return document.position(loc), f"unknown key '{loc[-1]}' {where}{context.get('hint', '')}"
    if error["type"] == "missing":
        where = f"{parent}: " if parent else ""
        return document.position(loc), f"{where}missing required key '{loc[-1]}'"
    message = error["msg"]
    if error["type"] in _PYDANTIC_ERRORS:  # "Input should be ...": reword, quote the value
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        message = f"{message[:1].lower()}{message[1:]}{_got(error['input'])}"
    return document.position(loc), f"{dotted(written)}: {message}" if written else message


def _got(value: Any) -> str:
    """Quote the offending value when it is a plain scalar (secrets never are)."""
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 60:
        return f", got {value!r}"
    return ""
