"""The server's JSON logs and the batching access-log handler."""

from __future__ import annotations

import io
import json
import logging
import threading

from issue_core.server.logs import BatchingStreamHandler, JsonFormatter
from tests.server.conftest import wait_for


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.writes += 1
            return super().write(text)


def record(n: int) -> logging.LogRecord:
    made = logging.LogRecord(
        "issue_core.server.access", logging.INFO, __file__, 1, "request", None, None
    )
    made.fields = {"request_id": f"r{n}", "status": 201}
    return made


def handler_on(stream: CountingStream, **options: float) -> BatchingStreamHandler:
    handler = BatchingStreamHandler(stream, **options)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    return handler


def test_lines_are_written_in_batches_in_order() -> None:
    stream = CountingStream()
    handler = handler_on(stream, max_lines=100, max_delay=60)
    try:
        for n in range(250):
            handler.emit(record(n))
        assert stream.writes == 2  # two full batches; 50 lines still buffered
        handler.flush()
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["request_id"] for line in lines] == [f"r{n}" for n in range(250)]
        assert stream.writes == 3
        assert lines[0]["logger"] == "issue_core.server.access" and lines[0]["status"] == 201
        assert lines[0]["ts"].endswith("Z")
    finally:
        handler.close()


def test_a_lone_line_is_written_soon_without_a_flush() -> None:
    stream = CountingStream()
    handler = handler_on(stream, max_lines=100, max_delay=0.05)
    try:
        handler.emit(record(1))
        wait_for(lambda: stream.getvalue().count("\n") == 1, timeout=10)
        handler.emit(record(2))
        wait_for(lambda: stream.getvalue().count("\n") == 2, timeout=10)
    finally:
        handler.close()


def test_close_writes_what_is_buffered() -> None:
    stream = CountingStream()
    handler = handler_on(stream, max_lines=100, max_delay=60)
    handler.emit(record(7))
    assert stream.getvalue() == ""
    handler.close()
    assert json.loads(stream.getvalue())["request_id"] == "r7"


def test_a_closed_stream_does_not_break_logging() -> None:
    stream = CountingStream()
    handler = handler_on(stream, max_lines=1, max_delay=60)
    stream.close()
    handler.emit(record(1))  # no exception reaches the caller
    handler.close()


def test_formatter_adds_exception_type_and_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.LogRecord(
            "issue_core.server", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(failed))
    assert line["level"] == "error" and line["exc_type"] == "ValueError"
    assert "boom" in line["traceback"]
