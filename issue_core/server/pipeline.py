"""The ingestion pipeline: claim in the state db, create on the backend, record the outcome.

One thread owns it (a thread of the server, or the main thread of the writer child process with
``issue serve --writer process``), with the state-db connection and every backend connection.
Request handlers hand it tasks through ``worker.IngestWorker``; it drains whatever has queued
up into one batch and runs a *cycle*:

1. one durable transaction (one fsync: group commit) records the outcomes of the previous
   cycle and claims every new task, so a task is on disk and its idempotency key taken before
   any backend sees it;
2. the claimed tasks are created on their backend (one bulk transaction on the local store);
3. the outcomes are answered at once: a 201 is sent after the backend's commit. Their
   bookkeeping rides with the next cycle's claims (a crash before that is healed by the
   task's marker), or is committed on its own when no task is waiting.

Running claims and creates on one thread, rather than one thread each, costs no overlap worth
having (both commits are short fsyncs) and keeps the server's event loop from fighting two
threads for the GIL: every SQLite statement releases it, and taking it back from a busy event
loop waits for the interpreter's switch interval. A repeat of a key whose task is still in
flight waits for that task's outcome, so concurrent duplicates get the same answer as
sequential ones.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

from issue_core.core.errors import IssueCoreError, StoreError
from issue_core.core.models import Issue
from issue_core.server import timings
from issue_core.server.checkpointer import Checkpointer
from issue_core.server.messages import (
    Answers,
    Claimed,
    Delivered,
    ErrorInfo,
    InMessage,
    OutcomeData,
    OutcomeKind,
    OutMessage,
    Probe,
    ProbeResult,
    Record,
    Stop,
    Task,
    Tasks,
)
from issue_core.server.outbox import StateStore
from issue_core.server.writer import OUTBOX_POLL_SECONDS, BackendStage
from issue_core.service.ingest import claim, record
from issue_core.service.tasks import TaskRow

log = logging.getLogger("issue_core.server")

# Under load the next cycle's claims carry the bookkeeping of this one (no fsync of its own);
# when no task arrives within this time, it is committed alone.
FLUSH_AFTER_SECONDS = 0.003
MAX_MERGE = 64  # messages drained into one cycle (each may hold many tasks)

# Messages in: Tasks | Probe | Stop; out: Claimed | Answers | ProbeResult (messages.py).
Emit = Callable[[OutMessage], None]


class Pipeline:
    def __init__(
        self, store: StateStore, stage: BackendStage, checkpointer: Checkpointer | None = None
    ) -> None:
        self.store = store
        self.stage = stage
        self.checkpointer = checkpointer  # --synchronous normal: WAL checkpoints off the cycle
        # idempotency key of a task claimed but not yet recorded -> repeats waiting for it
        self.inflight: dict[str, list[tuple[int, TaskRow]]] = {}
        # outcomes created but not yet recorded: (their records, the tasks with their outcome)
        self.records: list[Record] = []
        self.unsettled: list[tuple[TaskRow, OutcomeData]] = []
        self.settling: list[tuple[TaskRow, OutcomeData]] = []  # recorded by the last commit
        self.commit_times = (0.0, 0.0)  # the last commit's statements and COMMIT (timings)

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.stage.close()
        self.store.close()

    # -- a cycle ------------------------------------------------------------------------

    def cycle(self, tasks: list[Task], emit: Emit, waited: float = 0.0) -> None:
        """Record the last cycle's outcomes and claim ``tasks`` (one transaction), then create
        the claimed tasks' issues and answer every task. ``waited``: how long the pipeline
        waited for them (for ``timings``)."""
        rows = [row for _, row, _ in tasks]
        recorder = timings.recorder
        started = timings.clock() if recorder is not None else 0.0
        try:
            existing, answers = self._commit(rows), self._settle()
        except Exception as exc:
            error = ErrorInfo.of(StoreError(f"the server's state db failed: {exc}"))
            answers = self._settle()
            answers.extend(
                (task_id, OutcomeData(OutcomeKind.ERROR, row, error=error))
                for task_id, row, _ in tasks
            )
            emit(Answers(answers))
            return
        claimed = [task for index, task in enumerate(tasks) if index not in existing]
        if claimed:
            emit(Claimed([task_id for task_id, _, _ in claimed]))
        for _, row, _ in claimed:
            if row.idempotency_key:
                self.inflight[row.idempotency_key] = []
        answers.extend(self._repeats([(tasks[index][0], tasks[index][1]) for index in existing]))
        create_start, created = timings.clock(), 0.0
        if claimed:
            items = [(row, issue or Issue.from_dict(row.issue_data)) for _, row, issue in claimed]
            outcomes = self.stage.create(items, self.records)
            self.unsettled.extend(zip([row for _, row, _ in claimed], outcomes, strict=True))
            answers.extend(zip([task_id for task_id, _, _ in claimed], outcomes, strict=True))
            created = timings.clock() - create_start
        if answers:
            emit(Answers(answers))
        if recorder is not None:
            sql, commit = self.commit_times
            emit_time = timings.clock() - started - sql - commit - created
            recorder.add(("cycle", started, waited, len(tasks), sql, commit, created, emit_time))

    def flush(self, emit: Emit, *, final: bool = False) -> None:
        """Commit pending bookkeeping on its own (no claim is waiting to ride along).

        Deliveries alone are committed without an fsync: a delivery record lost to a power cut
        is rebuilt from the issue's marker (the row stays ``claimed`` and is healed at restart),
        and the next durable commit writes it to disk anyway. Measured under load, one cycle in
        ten to twenty was such a flush, and a claim arriving during its fsync waited for it
        (docs/performance.md). A release or an outbox entry cannot be rebuilt: with one of
        those, the flush is durable, as is the last one before the pipeline stops."""
        if not self.unsettled:
            return
        count = len(self.unsettled)
        started = timings.clock()
        durable = final or not all(isinstance(item, Delivered) for item in self.records)
        try:
            self._commit([], durable=durable)
        except Exception:
            pass  # logged by _commit
        recorder = timings.recorder
        if recorder is not None:
            recorder.add(("flush", started, count, timings.clock() - started))
        answers = self._settle()
        if answers:
            emit(Answers(answers))

    def _commit(self, rows: list[TaskRow], *, durable: bool = True) -> dict[int, TaskRow]:
        """One transaction, durable unless said: the pending records, then claims of ``rows``
        (always durable: a claim must be on disk before its backend sees it). Returns the rows
        already holding the keys of duplicates, by index in ``rows``."""
        assert durable or not rows
        records, self.records = self.records, []
        self.settling, self.unsettled = self.unsettled, []
        try:
            started = timings.clock()
            with self.store.transaction(durable=durable) as conn:
                record(self.store, conn, records)
                existing = claim(self.store, conn, rows)
                statements = timings.clock()
            self.commit_times = (statements - started, timings.clock() - statements)
            return existing
        except Exception:
            # Created issues exist regardless; their rows stay 'claimed' and are healed by
            # marker at restart. New tasks were not claimed: they are refused (503).
            log.exception("the state db transaction failed")
            raise

    def _settle(self) -> list[tuple[int, OutcomeData]]:
        """After a commit: answer the repeats that waited for the tasks it recorded."""
        answers: list[tuple[int, OutcomeData]] = []
        settling, self.settling = self.settling, []
        for row, outcome in settling:
            waiting = self.inflight.pop(row.idempotency_key or "", None)
            if waiting:
                answers.extend(self._repeats(waiting, first=outcome))
        return answers

    def _repeats(
        self, repeats: list[tuple[int, TaskRow]], first: OutcomeData | None = None
    ) -> list[tuple[int, OutcomeData]]:
        """Answer repeats of known keys: now, or (``inflight``) after their original's outcome
        is recorded. ``first``: the original's outcome, when it has just been recorded."""
        answers: list[tuple[int, OutcomeData]] = []
        for task_id, mine in repeats:
            key = mine.idempotency_key
            assert key is not None  # only keyed tasks can repeat
            waiting = self.inflight.get(key)
            if waiting is not None:
                waiting.append((task_id, mine))
                continue
            row = self.store.by_key(key)
            if row is None:
                # The original was rejected and its claim released: answer the same.
                lost = ErrorInfo.of(StoreError("claim lost"))
                outcome = (
                    OutcomeData(first.kind, mine, error=first.error or lost)
                    if first
                    else (OutcomeData(OutcomeKind.ERROR, mine, error=lost))
                )
            elif row.status == "failed":
                outcome = OutcomeData(OutcomeKind.FAILED_BEFORE, row)
            elif row.status != "delivered":
                outcome = OutcomeData(OutcomeKind.DUPLICATE, row)
            else:
                outcome = self.stage.reread(row)
            answers.append((task_id, outcome))
        return answers


def pipeline_loop(inbox: queue.SimpleQueue[InMessage], emit: Emit, pipeline: Pipeline) -> None:
    """Run cycles until a ``Stop`` message; everything sent before it is finished first."""
    stage = pipeline.stage
    stopping = False
    while True:
        if stopping:
            timeout = 0.0
        elif pipeline.unsettled:
            timeout = FLUSH_AFTER_SECONDS
        else:
            timeout = stage.next_outbox_check - time.time()
        waiting = timings.clock()
        messages = _drain(inbox, timeout)
        waited = timings.clock() - waiting
        if not messages and pipeline.unsettled:
            # No task came to ride along with the bookkeeping: commit it on its own.
            pipeline.flush(emit, final=stopping)
        if stopping and not messages:
            return
        tasks = [
            task for message in messages if isinstance(message, Tasks) for task in message.tasks
        ]
        if tasks:
            pipeline.cycle(tasks, emit, waited)
        for message in messages:
            if isinstance(message, Probe):
                emit(ProbeResult(message.probe_id, *_probe(stage, message.backend)))
            elif isinstance(message, Stop):
                stopping = True
        if not stopping and time.time() >= stage.next_outbox_check:
            stage.outbox_round()


def _drain(inbox: queue.SimpleQueue[InMessage], timeout: float) -> list[InMessage]:
    timeout = min(timeout, OUTBOX_POLL_SECONDS)
    try:
        first = inbox.get(timeout=timeout) if timeout > 0 else inbox.get_nowait()
    except queue.Empty:
        return []
    messages = [first]
    while len(messages) < MAX_MERGE:
        try:
            messages.append(inbox.get_nowait())
        except queue.Empty:
            break
    return messages


def _probe(stage: BackendStage, backend: str) -> tuple[bool, str]:
    try:
        return stage.probe(backend)
    except IssueCoreError as exc:
        return (False, exc.one_line())
    except Exception as exc:
        return (False, f"internal error: {type(exc).__name__}")
