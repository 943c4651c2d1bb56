"""Operational logs: one JSON object a line, times in RFC 3339 UTC like everything else."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from trustplane import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_is_json_with_an_rfc3339_utc_time(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO")
    logging.getLogger("trustplane.test").info("hello", extra={"correlation_id": "c1"})
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "trustplane.test", "hello")
    assert line["correlation_id"] == "c1"
    moment = datetime.fromisoformat(line["time"])
    assert moment.utcoffset() == timedelta(0)
