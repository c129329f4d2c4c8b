"""Structured logs: one JSON object per line on stderr.

Access log lines carry the request id, method, path, status, duration and the API key's
fingerprint (never the key). Other server messages use the same format, so a log shipper needs
one parser.

Access lines are written in batches (``BatchingStreamHandler``): one ``write`` per batch rather
than one per request. A system call on the event loop's thread releases the GIL, and a busy
server then waits for its other threads to hand it back; measured under load, writing each line
as it came cut the ingestion throughput by a fifth. A batch is written when it holds
``MAX_LINES`` lines, ``MAX_DELAY`` seconds after its first line, and when the server stops;
warnings and errors go out at once, on their own handler.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any, TextIO

ACCESS_LOGGER = "issue_core.server.access"
MAX_LINES = 256
MAX_DELAY = 0.2  # seconds a line may wait in the buffer; a SIGKILL loses at most this much


_OURS = "_issue_core_json"  # marks the handlers configure_logging installed


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # strftime once per second, not per line
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        data: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            data["exc_type"] = record.exc_info[0].__name__
            data["traceback"] = self.formatException(record.exc_info)
        # ensure_ascii: client text (paths, keys, messages quoting it) is written as \u escapes,
        # never as raw C0/C1 controls or bidi overrides a terminal reading the log would obey.
        return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=True)


class BatchingStreamHandler(logging.Handler):
    """Formats each record at once and writes the lines to ``stream`` in batches."""

    def __init__(
        self, stream: TextIO, *, max_lines: int = MAX_LINES, max_delay: float = MAX_DELAY
    ) -> None:
        super().__init__()
        self.stream = stream
        self.max_lines = max_lines
        self.max_delay = max_delay
        self._lines: list[str] = []
        self._buffer_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._timer = threading.Thread(target=self._flush_later, name="issue-core-log", daemon=True)
        self._timer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._buffer_lock:
            self._lines.append(line)
            count = len(self._lines)
        if count >= self.max_lines:
            self.flush()
        elif count == 1:
            self._wake.set()  # the timer writes this batch within max_delay

    def flush(self) -> None:
        with self._buffer_lock:
            if not self._lines:
                return
            text = "\n".join(self._lines) + "\n"
            self._lines.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr is gone; nothing better to do with an access line

    def _flush_later(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.max_delay)
            self.flush()

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()
        super().close()


def configure_logging(level: str = "info", *, access_log: bool = True) -> None:
    """Send issue-core's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _OURS, True)
    for name in ("issue_core", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # Everything else (asyncio's "Task exception was never retrieved", a library's warning)
    # reaches the root logger; without a handler there, logging's last resort would print the
    # bare message, client text and terminal escapes included. JSON escapes every control
    # character and all non-ASCII (ensure_ascii), so no log line can drive a terminal.
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, _OURS, False)] + [handler]
    access = logging.getLogger(ACCESS_LOGGER)
    access.disabled = not access_log
    for old in access.handlers:
        old.close()
    access.handlers[:] = []
    if access_log:
        batching = BatchingStreamHandler(sys.stderr)
        batching.setFormatter(JsonFormatter())
        access.addHandler(batching)
        access.propagate = False
    # uvicorn's own access log would duplicate ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True


_access = logging.getLogger(ACCESS_LOGGER)


def log_access(fields: dict[str, Any]) -> None:
    if _access.isEnabledFor(logging.INFO) and not _access.disabled:
        _access.info("request", extra={"fields": fields})


def flush_access_log() -> None:
    """Write out buffered access lines (the server calls this when it stops)."""
    for handler in _access.handlers:
        handler.flush()
