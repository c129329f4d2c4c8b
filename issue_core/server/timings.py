"""Opt-in timings of the ingestion server: where a request's latency goes.

Off unless ``ISSUE_CORE_SERVER_TIMINGS`` names a folder. Then each process of the server (the
event loop's and the writer's) keeps samples in memory and writes them there when it stops, one
JSON file per process, read by ``bench/ingest_timings.py`` (docs/performance.md says what was
found with it). Nothing is measured or kept when it is off: every call site tests the module's
``recorder`` for ``None`` first, once per cycle or request.

Samples are tuples ``(kind, start, value, ...)``: ``start`` is ``time.perf_counter()``, the
system's monotonic clock, the same in both processes, so their samples line up on one time line.
What is recorded (seconds unless said):

* ``gc``: a collection, ``(gen, duration, collected)`` — through ``gc.callbacks``;
* ``lag``: how late the event loop ran a timer that should have fired (the loop was busy);
* ``request``: ``POST /issues/`` on the loop, ``(parse, wait, answer)``: body read + validation
  + prepare, waiting for the pipeline's outcome, building the answer;
* ``send``: tasks handed to the pipeline in one message, ``(count, duration)``;
* ``resolve``: answers reaching the loop, ``(count, hand-over)``: from the pipe's receiver
  thread (or the pipeline's thread) to the loop running the callback;
* ``cycle``: one pipeline cycle, ``(wait, count, sql, commit, create, emit)``: time blocked
  waiting for tasks before it, its claims and last records (statements, then COMMIT with its
  fsync), the backend's create of the batch (the store's own transaction), answering;
* ``flush``: bookkeeping committed alone, ``(count, duration)``;
* ``pump``: a message arriving in the writer process, ``(count,)``;
* ``txn``: a write transaction of either database (``storage.sqlite.write_transaction``),
  ``(file name, body, commit, WAL checkpoint sequence at its start)``: COMMIT includes the fsync
  and, when the WAL has grown past its limit, the checkpoint that copies it into the database
  (the WAL's checkpoint sequence, read from its header, moves on the next transaction).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENV = "ISSUE_CORE_SERVER_TIMINGS"
LAG_INTERVAL = 0.002  # the loop-lag probe's period

clock = time.perf_counter


class Recorder:
    """One process's samples."""

    def __init__(self, folder: Path, process: str) -> None:
        self.folder = folder
        self.process = process
        self.samples: list[tuple[Any, ...]] = []
        self.add = self.samples.append  # the hot call: one bound method, no wrapper
        self._gc_start = 0.0
        self._lag_task: asyncio.Task[None] | None = None

    def watch_gc(self) -> None:
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = clock()
        else:
            end = clock()
            self.add(
                ("gc", self._gc_start, info["generation"], end - self._gc_start, info["collected"])
            )

    def watch_loop(self) -> None:
        """Sample the running event loop's lag until ``dump``."""
        self._lag_task = asyncio.get_running_loop().create_task(self._lag())

    async def _lag(self) -> None:
        while True:
            before = clock()
            await asyncio.sleep(LAG_INTERVAL)
            late = clock() - before - LAG_INTERVAL
            if late > 0.0005:
                self.add(("lag", before + LAG_INTERVAL, late))

    def dump(self) -> Path:
        if self._lag_task is not None:
            self._lag_task.cancel()
            self._lag_task = None
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.process}-{os.getpid()}.json"
        path.write_text(json.dumps({"process": self.process, "samples": self.samples}))
        return path


recorder: Recorder | None = None


def start(process: str) -> Recorder | None:
    """Start recording in this process if ``ISSUE_CORE_SERVER_TIMINGS`` is set."""
    global recorder
    folder = os.environ.get(ENV)
    if not folder:
        return None
    if recorder is None:
        recorder = Recorder(Path(folder), process)
        recorder.watch_gc()
        _watch_transactions(recorder)
    return recorder


def stop() -> None:
    """Write this process's samples (if recording) and stop recording."""
    global recorder
    if recorder is not None:
        recorder.dump()
        recorder = None
        from issue_core.storage import sqlite as engine

        engine.write_transaction = getattr(
            engine.write_transaction, "_original", engine.write_transaction
        )


def _watch_transactions(recorder: Recorder) -> None:
    """Time every write transaction of this process (the engine's ``write_transaction`` is
    looked up at each call, so wrapping the module's function reaches every store)."""
    from issue_core.storage import sqlite as engine

    original = engine.write_transaction
    if getattr(original, "_timed", False):
        return
    files: dict[int, str] = {}

    @contextmanager
    def timed(conn: Any, *, durable: bool = True) -> Iterator[None]:
        path = files.get(id(conn))
        if path is None:
            path = files[id(conn)] = str(conn.execute("PRAGMA database_list").fetchone()[2])
        sequence = _wal_sequence(path)
        state = {"body": 0.0}
        outer = original(conn, durable=durable)
        started = clock()
        with outer:
            begun = clock()
            yield
            state["body"] = clock() - begun
        ended = clock()
        recorder.add(
            (
                "txn",
                started,
                os.path.basename(path),
                state["body"],
                ended - started - state["body"],
                sequence,
            )
        )

    timed._timed = True  # type: ignore[attr-defined]
    timed._original = original  # type: ignore[attr-defined]
    engine.write_transaction = timed


def _wal_sequence(path: str) -> int:
    try:
        with open(path + "-wal", "rb") as wal:
            header = wal.read(16)
    except OSError:
        return -1
    return struct.unpack(">I", header[12:16])[0] if len(header) == 16 else -1
