"""JSON log lines carry the run they are about, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.logs import JsonFormatter, SecretMask, log_context

SECRET = "shpat_0123456789abcdef"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretMask([SECRET]))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_time_level_logger_message_and_the_run(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured
    with log_context(connection="shop", stream="customers", run_id=7):
        logger.info("pulled %d records", 3)
    logger.warning("outside any run")
    inside, outside = _lines(out)
    assert inside["message"] == "pulled 3 records"
    assert (inside["level"], inside["logger"]) == ("info", "tests.logs")
    assert (inside["connection"], inside["stream"], inside["run_id"]) == ("shop", "customers", 7)
    assert str(inside["time"]).endswith("+00:00")
    assert "connection" not in outside and outside["level"] == "warning"


def test_secrets_are_masked_in_the_message_its_arguments_and_a_traceback(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured
    logger.info("token in the text " + SECRET)
    logger.info("token as an argument %s", SECRET)
    try:
        raise RuntimeError(f"401 for Authorization: Bearer {SECRET}")
    except RuntimeError:
        logger.exception("the call failed")
    assert SECRET not in out.getvalue()
    first, second, third = _lines(out)
    assert first["message"] == "token in the text ***"
    assert second["message"] == "token as an argument ***"
    assert "RuntimeError: 401 for Authorization: Bearer ***" in str(third["exception"])


@pytest.mark.anyio
async def test_the_context_follows_work_into_threads_and_stays_with_its_own_task(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = captured

    async def work(connection: str) -> None:
        with log_context(connection=connection):
            await asyncio.sleep(0)
            await asyncio.to_thread(logger.info, "in a thread")

    await asyncio.gather(work("a"), work("b"))
    assert sorted(str(line["connection"]) for line in _lines(out)) == ["a", "b"]
