"""Value types of the config file and the strict base its models share.

Durations, cron expressions and database URLs are written as short strings in
YAML; these types turn them into values the scheduler and store use directly,
and reject a bad one with a message that says what a good one looks like.

Errors are raised as ``PydanticCustomError`` so their text reaches the person
unchanged (no "Value error," prefix), and validators that find several
problems raise them together with :func:`fail`, each at its own location.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from datetime import timedelta
from typing import Annotated, Any, NoReturn

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "DURATION_PATTERN",
    "ConfigModel",
    "Cron",
    "Duration",
    "Loc",
    "carry",
    "did_you_mean",
    "fail",
    "matching",
    "member_of",
    "parse_duration",
    "problem",
    "redact_url",
    "store_url",
    "unknown_key",
]

Loc = tuple[Any, ...]

DURATION_PATTERN = r"^(0|(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$"
_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A "; did you mean 'x'?" suffix for a near miss, else an empty string."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def problem(loc: Loc, kind: str, message: str, **context: Any) -> InitErrorDetails:
    """One located error, ready to be raised together with others by :func:`fail`."""
    return InitErrorDetails(type=PydanticCustomError(kind, message, context), loc=loc, input=None)


def carry(exc: ValidationError) -> list[InitErrorDetails]:
    """Re-wrap a ValidationError's errors so they can join new ones in one raise."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=error["loc"],
            input=error["input"],
        )
        for error in exc.errors()
    ]


def fail(title: str, errors: list[InitErrorDetails]) -> NoReturn:
    """Raise every error at once, so a person fixes the whole file in one go."""
    raise ValidationError.from_exception_data(title, errors)


class ConfigModel(BaseModel):
    """Base of every config section: a misspelt key is an error with a suggestion.

    Pydantic reports an extra key as "Extra inputs are not permitted"; the key
    is usually a typo of a real one, so we name the closest real key instead.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not any(_is_extra_here(error["type"], error["loc"]) for error in errors):
                raise
            keys = [field.alias or name for name, field in cls.model_fields.items()]
            fail(
                cls.__name__,
                [
                    unknown_key(error["loc"], keys)
                    if _is_extra_here(error["type"], error["loc"])
                    else carried
                    for error, carried in zip(errors, carry(exc), strict=True)
                ],
            )


def _is_extra_here(kind: str, loc: Loc) -> bool:
    return kind == "extra_forbidden" and len(loc) == 1


def unknown_key(loc: Loc, keys: Iterable[str]) -> InitErrorDetails:
    """The error for a key no model field accepts, with the nearest real key."""
    hint = did_you_mean(loc[-1], keys)
    return problem(loc, "unknown_key", f"unknown key '{loc[-1]}'{hint}", key=loc[-1], hint=hint)


def member_of(kind: str, names: Collection[str]) -> Callable[[str], str]:
    """A validator accepting only ``names``, suggesting the nearest on a miss."""

    def check(value: str) -> str:
        if value not in names:
            hint = did_you_mean(value, names)
            raise PydanticCustomError(
                f"{kind.replace(' ', '_')}_unknown", f"no {kind} '{value}'{hint}"
            )
        return value

    return check


def matching(kind: str, pattern: str, rule: str) -> Callable[[str], str]:
    """A validator for ``pattern`` whose error states ``rule`` instead of a regex."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise PydanticCustomError(
                f"{kind.replace(' ', '_')}_invalid", f"{kind} '{value}' {rule}"
            )
        return value

    return check


def parse_duration(text: str) -> timedelta:
    """Read a duration such as ``30s``, ``5m``, ``1h30m`` or ``2d``.

    ISO 8601 (``PT5M``) is what pydantic reads by default, but nobody writes
    that in a config file; units in descending order keep it unambiguous.
    """
    value = text.strip()
    if value == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise ValueError(
            f"'{text}' is not a duration; write a number with a unit (s, m, h, d), "
            "e.g. 30s, 5m, 1h30m or 1d"
        )
    return timedelta(**{_UNITS[unit]: int(n) for unit, n in match.groupdict().items() if n})


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


def _cron(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("cron", "cron must be a string such as '*/15 * * * *'")
    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "cron",
            f"'{value}' is not a 5-field cron expression (minute hour day month weekday): {exc}",
        ) from None
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m"]}),
]
Cron = Annotated[
    str,
    BeforeValidator(_cron),
    WithJsonSchema({"type": "string", "examples": ["*/15 * * * *", "0 3 * * mon"]}),
]


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``, safe to print or log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def store_url(value: str) -> str:
    """Accept the two stores crmhub supports; say how to write one otherwise.

    The URL itself is not quoted: it may carry a password.
    """
    hint = "write sqlite:///FILE or postgresql://USER@HOST/DATABASE"
    try:
        backend = make_url(value).get_backend_name()
    except ArgumentError:
        raise PydanticCustomError("store_url", f"not a database URL; {hint}") from None
    if backend not in ("sqlite", "postgresql"):
        raise PydanticCustomError(
            "store_url", f"crmhub cannot keep its data in '{backend}'; {hint}"
        )
    return value
