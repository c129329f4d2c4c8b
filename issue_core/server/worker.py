"""The ingestion pipeline's front: claims in the state db, then hand-off to the backend stage.

Request handlers (on the event loop) hand a prepared task to ``IngestWorker.submit`` and await a
future. This thread drains whatever has queued up into one batch and:

1. claims every task in ONE durable transaction (one fsync: group commit), so a task is on disk
   and its idempotency key taken before any backend sees it;
2. passes the claimed tasks to the backend stage (``writer.py``: a thread, or a child process),
   and goes on claiming the next batch while that one is written: the state-db commit and the
   backend's commit of consecutive batches overlap;
3. records the outcomes of batches the stage returned in the same transaction as the next
   claims (one fsync per cycle), and only then resolves their futures (201 is sent after
   the backend's commit and the bookkeeping's).

A repeat of a key whose task is still in flight waits for that task's outcome, so concurrent
duplicates get the same answer as sequential ones.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue_core.core.config import BackendConfig
from issue_core.core.errors import BackendUnavailable, StoreError
from issue_core.core.models import Issue
from issue_core.server.outbox import StateStore, TaskRow
from issue_core.server.writer import (
    OutcomeData,
    ProcessTransport,
    StageConfig,
    ThreadTransport,
    WriteJob,
    WriteResult,
    apply_record,
)

log = logging.getLogger("issue_core.server")

MAX_BATCH = 256
_STOP = ("stop",)


@dataclass
class Outcome:
    """What happened to one submitted task.

    ``kind``: created | duplicate | queued | rejected | failed_before | error
    """

    kind: str
    row: TaskRow
    issue: dict[str, Any] | None = None
    error: BaseException | None = None


@dataclass
class _Submission:
    row: TaskRow
    future: asyncio.Future[Outcome]
    loop: asyncio.AbstractEventLoop
    issue: Issue
    outcome: Outcome | None = None


@dataclass
class _Job:
    claimed: list[_Submission]
    reread: list[tuple[_Submission, TaskRow]]


@dataclass
class IngestWorker:
    state_path: Path
    backends: Mapping[str, BackendConfig]
    identity: str
    process: bool = False  # run the backend stage in a child process
    max_queue: int = 10_000
    _queue: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _startup_error: BaseException | None = None
    # idempotency key of a task claimed but not yet recorded -> repeats waiting for it
    _inflight: dict[str, list[_Submission]] = field(default_factory=dict)
    _jobs: dict[int, _Job] = field(default_factory=dict)
    _probes: dict[int, tuple[asyncio.Future[Any], asyncio.AbstractEventLoop]] = field(
        default_factory=dict
    )
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # -- lifecycle (event-loop side) ----------------------------------------------------

    def start(self) -> None:
        """Open the state db, heal interrupted tasks, start the stages (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="issue-core-ingest", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread = None
            raise self._startup_error

    def stop(self, timeout: float = 60.0) -> None:
        """Finish everything queued so far (claims and backend writes), then stop."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def submit(self, row: TaskRow, issue: Issue | None = None) -> asyncio.Future[Outcome]:
        """Queue a prepared task (``issue``: its issue, saving a JSON parse here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.put(_Submission(row, future, loop, issue or Issue.from_dict(row.issue_data)))
        return future

    def probe(self, backend: str) -> asyncio.Future[tuple[bool, str]]:
        """Ask the backend stage whether ``backend`` answers: ``(ok, detail)``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[bool, str]] = loop.create_future()
        self._queue.put(("probe-request", future, loop, backend))
        return future

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.store = StateStore(self.state_path)
            healed = self.store.heal_claimed()
            if healed:
                log.warning("requeued %d task(s) interrupted by an earlier stop", healed)
            self.stage = self._start_stage()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop()
        finally:
            self.stage.stop(timeout=60)
            self.store.close()

    def _start_stage(self) -> ThreadTransport | ProcessTransport:
        from issue_core.backends import BUILTIN_BACKENDS

        config = StageConfig(
            self.state_path, dict(self.backends), self.identity, dict(BUILTIN_BACKENDS)
        )
        transport_class = ProcessTransport if self.process else ThreadTransport
        transport = transport_class(config, self._queue.put)
        transport.start()
        return transport

    def _loop(self) -> None:
        stopping = False
        while not (stopping and not self._jobs):
            items = [self._queue.get()]
            while len(items) < MAX_BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            finished: list[tuple[_Job, WriteResult]] = []
            for item in items:
                if isinstance(item, _Submission):
                    continue
                if item[0] == "done":
                    for job_id, result in item[1]:
                        job = self._jobs.pop(job_id)
                        self._answer(job, result)
                        finished.append((job, result))
                elif item[0] == "probe-request":
                    probe_id = next(self._ids)
                    self._probes[probe_id] = (item[1], item[2])
                    self.stage.send(("probe", probe_id, item[3]))
                elif item[0] == "probe":
                    future, loop = self._probes.pop(item[1])
                    loop.call_soon_threadsafe(_set_result, future, item[2])
                elif item[0] == "died":
                    self._stage_died()
                elif item == _STOP:
                    stopping = True
            submissions = [item for item in items if isinstance(item, _Submission)]
            if finished or submissions:
                self._cycle(finished, submissions)

    def _cycle(
        self, finished: list[tuple[_Job, WriteResult]], submissions: list[_Submission]
    ) -> None:
        """One state-db transaction (one fsync) records the finished jobs and claims the new
        tasks; then the finished are answered and the claimed sent to the backend stage."""
        existing: dict[int, TaskRow] = {}
        claim_error: Exception | None = None
        try:
            with self.store.transaction() as conn:
                for _, result in finished:
                    for record in result.records:
                        apply_record(self.store, conn, record)
                for index, sub in enumerate(submissions):
                    found = self.store.claim(conn, sub.row)
                    if found is not None:
                        existing[index] = found
        except Exception as exc:
            # Finished issues exist regardless; their rows stay 'claimed' and are healed by
            # marker at restart. New tasks were not claimed: they are refused (503).
            log.exception("the state db transaction failed")
            claim_error = exc
        for job, result in finished:
            self._finish(job, result)
        if claim_error is not None:
            error = StoreError(f"the server's state db failed: {claim_error}")
            for sub in submissions:
                sub.outcome = Outcome("error", sub.row, error=error)
            _resolve(submissions)
            return
        if submissions:
            self._claimed(submissions, existing)

    def _send(self, job: _Job) -> None:
        job_id = next(self._ids)
        self._jobs[job_id] = job
        write = WriteJob(
            [(sub.row, sub.issue) for sub in job.claimed], [row for _, row in job.reread]
        )
        self.stage.send(("job", job_id, write))

    def _stage_died(self) -> None:
        """The writer process died: its jobs' tasks go to the outbox (they are durable there;
        delivery checks their markers first), and a new writer starts."""
        log.error("the backend writer process died; restarting it")
        error = BackendUnavailable("the backend writer restarted; the task will be retried")
        jobs, self._jobs = list(self._jobs.values()), {}
        self.store.heal_claimed()
        for job in jobs:
            for sub in job.claimed:
                sub.row.status = "pending"
                sub.outcome = Outcome("queued", sub.row, error=error)
            for sub, row in job.reread:
                sub.outcome = Outcome("duplicate", row, issue=row.snapshot)
            _resolve([*job.claimed, *(sub for sub, _ in job.reread)])
        for key in list(self._inflight):
            for sub in self._inflight.pop(key):
                sub.outcome = Outcome("error", sub.row, error=error)
                _resolve([sub])
        self.stage = self._start_stage()

    # -- claiming -----------------------------------------------------------------------

    def _claimed(self, batch: list[_Submission], existing: dict[int, TaskRow]) -> None:
        claimed = [sub for index, sub in enumerate(batch) if index not in existing]
        for sub in claimed:
            if sub.row.idempotency_key:
                self._inflight[sub.row.idempotency_key] = []
        answered, reread = self._repeats([batch[index] for index in existing])
        if claimed or reread:
            self._send(_Job(claimed, reread))
        _resolve(answered)

    def _repeats(
        self, repeats: list[_Submission], first: _Submission | None = None
    ) -> tuple[list[_Submission], list[tuple[_Submission, TaskRow]]]:
        """Answer repeats of known keys: now, after their original finishes, or after the
        backend stage has read the existing issue. Returns (answered now, to re-read)."""
        answered: list[_Submission] = []
        reread: list[tuple[_Submission, TaskRow]] = []
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
                reread.append((sub, row))
        return answered, reread

    # -- recording ----------------------------------------------------------------------

    def _answer(self, job: _Job, result: WriteResult) -> None:
        """Answer a job as soon as the backend stage returns it: a 201 needs the backend's
        commit, which is done. Its bookkeeping is committed with the next cycle; until then
        repeats of its keys wait in ``_inflight`` (and a crash is healed by marker)."""
        subs = [*job.claimed, *(sub for sub, _ in job.reread)]
        for sub, data in zip(subs, result.outcomes, strict=True):
            sub.outcome = _outcome(data)
        _resolve(subs)

    def _finish(self, job: _Job, result: WriteResult) -> None:
        """After its records are committed: answer the repeats that waited for this job."""
        answered: list[_Submission] = []
        reread: list[tuple[_Submission, TaskRow]] = []
        for sub in job.claimed:
            waiting = self._inflight.pop(sub.row.idempotency_key or "", None)
            if waiting:
                now, later = self._repeats(waiting, first=sub)
                answered.extend(now)
                reread.extend(later)
        _resolve(answered)
        if reread:
            self._send(_Job([], reread))


def _outcome(data: OutcomeData) -> Outcome:
    error = data.error.as_error() if data.error is not None else None
    return Outcome(data.kind, data.row, issue=data.issue, error=error)


def _resolve(batch: list[_Submission]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Submission]] = {}
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


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)
