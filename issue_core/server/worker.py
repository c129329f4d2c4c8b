"""The ingestion pipeline: claims in the state db on one thread, backend writes on another.

Request handlers (on the event loop) hand a prepared task to ``IngestWorker.submit`` and await a
future. This thread drains whatever has queued up into one batch and:

1. claims every task in ONE durable transaction (one fsync: group commit), so a task is on disk
   and its idempotency key taken before any backend sees it;
2. passes the claimed tasks to the backend stage (``writer.BackendWriter``), and goes on
   claiming the next batch while that one is written: the two fsyncs (state db, backend store)
   of consecutive batches overlap;
3. when the backend stage hands a batch back, records the outcomes in ONE transaction, and
   only then resolves the futures (201 is sent after both commits).

A repeat of a key whose task is still in flight waits for that task's outcome, so concurrent
duplicates get the same answer as sequential ones.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue_core.core.errors import StoreError
from issue_core.core.models import Issue
from issue_core.server.delivery import BackendPool
from issue_core.server.outbox import StateStore, TaskRow
from issue_core.server.writer import STOP, BackendWriter, Batch, Outcome, Probe, Submission

log = logging.getLogger("issue_core.server")

MAX_BATCH = 256

__all__ = ["IngestWorker", "Outcome"]


@dataclass
class _Done:
    batch: Batch


@dataclass
class IngestWorker:
    state_path: Path
    pool_factory: Callable[[], BackendPool]
    max_queue: int = 10_000
    _queue: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _startup_error: BaseException | None = None
    # idempotency key of a task claimed but not yet recorded -> repeats waiting for it
    _inflight: dict[str, list[Submission]] = field(default_factory=dict)
    _outstanding: int = 0

    # -- lifecycle (event-loop side) ----------------------------------------------------

    def start(self) -> None:
        """Open the state db, heal interrupted tasks, start both threads (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="issue-core-ingest", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread = None
            raise self._startup_error

    def stop(self, timeout: float = 30.0) -> None:
        """Finish everything queued so far (claims and backend writes), then stop."""
        if self._thread is None:
            return
        self._queue.put(STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def submit(self, row: TaskRow, issue: Issue | None = None) -> asyncio.Future[Outcome]:
        """Queue a prepared task (``issue``: its issue, saving a JSON parse here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.put(Submission(row, future, loop, issue or Issue.from_dict(row.issue_data)))
        return future

    def call(self, fn: Callable[[BackendPool], Any]) -> asyncio.Future[Any]:
        """Run ``fn(pool)`` on the backend thread (readiness checks)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(Probe(fn, future, loop))
        return future

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.store = StateStore(self.state_path)
            healed = self.store.heal_claimed()
            if healed:
                log.warning("requeued %d task(s) interrupted by an earlier stop", healed)
            self.writer = BackendWriter(
                self.state_path, self.pool_factory, lambda batch: self._queue.put(_Done(batch))
            )
            self.writer.start()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop()
        finally:
            self.writer.stop(timeout=60)
            self.store.close()

    def _loop(self) -> None:
        stopping = False
        while not (stopping and self._outstanding == 0):
            items = [self._queue.get()]
            while len(items) < MAX_BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for item in items:
                if isinstance(item, _Done):
                    self._finish(item.batch)
                elif isinstance(item, Probe):
                    self.writer.inbox.put(item)
                elif item is STOP:
                    stopping = True
            submissions = [item for item in items if isinstance(item, Submission)]
            if submissions:
                self._claim(submissions)

    def _send(self, batch: Batch) -> None:
        self._outstanding += 1
        self.writer.inbox.put(batch)

    # -- claiming -----------------------------------------------------------------------

    def _claim(self, batch: list[Submission]) -> None:
        try:
            with self.store.transaction() as conn:
                for sub in batch:
                    sub.existing = self.store.claim(conn, sub.row)
        except Exception as exc:
            log.exception("cannot claim tasks in the state db")
            error = StoreError(f"the server's state db failed: {exc}")
            for sub in batch:
                sub.outcome = Outcome("error", sub.row, error=error)
            _resolve(batch)
            return
        claimed = [sub for sub in batch if sub.existing is None]
        for sub in claimed:
            if sub.row.idempotency_key:
                self._inflight[sub.row.idempotency_key] = []
        answered, reread = self._repeats([sub for sub in batch if sub.existing is not None])
        if claimed or reread:
            self._send(Batch(claimed, reread))
        _resolve(answered)

    def _repeats(
        self, repeats: list[Submission], first: Submission | None = None
    ) -> tuple[list[Submission], list[Submission]]:
        """Answer repeats of known keys: now, after their original finishes, or after the
        backend stage has read the existing issue. Returns (answered now, to re-read)."""
        answered: list[Submission] = []
        reread: list[Submission] = []
        for sub in repeats:
            key = sub.row.idempotency_key
            assert key is not None  # only keyed tasks can repeat
            waiting = self._inflight.get(key)
            if waiting is not None:
                waiting.append(sub)
                continue
            row = self.store.by_key(key)
            if row is None:
                # The original was rejected and its claim released: answer the same.
                kind = first.outcome.kind if first and first.outcome else "error"
                error = first.outcome.error if first and first.outcome else None
                sub.outcome = Outcome(kind, sub.row, error=error or StoreError("claim lost"))
                answered.append(sub)
            elif row.status == "failed":
                sub.outcome = Outcome("failed_before", row)
                answered.append(sub)
            elif row.status != "delivered":
                sub.outcome = Outcome("duplicate", row)
                answered.append(sub)
            else:
                sub.existing = row
                reread.append(sub)
        return answered, reread

    # -- recording ----------------------------------------------------------------------

    def _finish(self, batch: Batch) -> None:
        self._outstanding -= batch.parts
        try:
            if batch.records:
                # Not fsynced: if this record is lost (power cut), restart heals by marker.
                with self.store.transaction(durable=False) as conn:
                    for record in batch.records:
                        record(conn)
        except Exception:
            # The issues exist; their rows stay 'claimed' and are healed by marker at restart.
            log.exception("cannot record delivery results in the state db")
        _resolve([*batch.claimed, *batch.reread])
        answered: list[Submission] = []
        reread: list[Submission] = []
        for sub in batch.claimed:
            waiting = self._inflight.pop(sub.row.idempotency_key or "", None)
            if waiting:
                now, later = self._repeats(waiting, first=sub)
                answered.extend(now)
                reread.extend(later)
        _resolve(answered)
        if reread:
            self._send(Batch([], reread))


def _resolve(batch: list[Submission]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[Submission]] = {}
    for sub in batch:
        by_loop.setdefault(sub.loop, []).append(sub)
    for loop, subs in by_loop.items():
        pairs = [(sub.future, sub.outcome) for sub in subs]
        try:
            loop.call_soon_threadsafe(_resolve_all, pairs)
        except RuntimeError:  # pragma: no cover - the loop closed under us
            log.warning("event loop closed before %d answer(s) were sent", len(pairs))


def _resolve_all(pairs: list[tuple[asyncio.Future[Outcome], Outcome | None]]) -> None:
    for future, outcome in pairs:
        if not future.done() and outcome is not None:
            future.set_result(outcome)
