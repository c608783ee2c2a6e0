"""The gateway's logging: the environments' servers leave it alone, and its two formats."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import threading
from pathlib import Path

import pytest
from starlette.responses import PlainTextResponse

from devtools.gateway.access_log import AccessRecord
from devtools.gateway.terminal import STREAM, function_echo, logging_config
from devtools.lambda_runtime.serving import LocalServer

LOGGERS = ("uvicorn.error", "uvicorn.access", "devtools.gateway.access")


def _state() -> dict[str, tuple[int, list[logging.Handler], bool]]:
    return {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers),
               logging.getLogger(name).propagate)
        for name in LOGGERS
    }  # fmt: skip


def _serve_and_stop() -> None:
    """A LocalServer started and stopped on a thread of its own, as the Lambda service runs
    each environment's Runtime API and DynamoDB front."""

    async def cycle() -> None:
        server = LocalServer(PlainTextResponse("ok"))
        await server.start()
        await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(cycle(),), name="lambda")
    thread.start()
    thread.join(timeout=30)


def test_an_environments_server_leaves_the_gateways_logging_alone(tmp_path: Path) -> None:
    logging.config.dictConfig(logging_config("json", tmp_path / "gateway.jsonl"))
    before = _state()
    assert before["uvicorn.error"][0] == logging.INFO
    _serve_and_stop()
    assert _state() == before  # levels, handlers (uvicorn.access keeps its own), propagation


def test_lines_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "gateway.jsonl"
    logging.config.dictConfig(logging_config("lines", log_file))
    record = AccessRecord("id-1", "127.0.0.1", "GET", "/orders/7", "GET /orders/{order_id}")
    record.environment, record.start = 3, "restore"
    record.log(200)
    AccessRecord("id-2", "127.0.0.1", "GET", "/hi", "ANY /hi", throttled="stage").log(429)
    function_echo('{"type": "platform.report", "record": {}}')  # INFO: the file only
    function_echo('{"level": "ERROR", "message": "boom"}')
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].endswith(" GET /orders/{order_id} 200 0 ms env 3 restore"), lines
    assert lines[1].endswith(" GET /hi 429 0 ms throttled (stage)"), lines
    assert err.splitlines() == ['{"level": "ERROR", "message": "boom"}']
    for handler in logging.getLogger(STREAM).handlers:
        handler.flush()
    written = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [w.get("type") for w in written] == [
        "gateway.access", "gateway.access", "platform.report", None
    ]  # fmt: skip
    assert written[0]["route_key"] == "GET /orders/{order_id}"
    assert (written[0]["status"], written[0]["environment"]) == (200, 3)
    assert written[1]["throttled"] == "stage"
