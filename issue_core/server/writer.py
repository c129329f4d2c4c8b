"""The backend stage of the ingestion pipeline: where issues are actually created.

It receives jobs of tasks already claimed in the state db (by ``worker.IngestWorker``), creates
their issues (in one bulk transaction where the backend offers ``bulk_create``), and returns
the outcomes plus the bookkeeping to record, as plain picklable data. Between jobs it delivers
due outbox tasks and answers readiness probes.

The stage runs on a thread of the server (the default) or, with ``issue serve --writer
process``, in a child process: a backend such as the local store spends most of its time in
Python, and on a thread it competes with the event loop for the GIL. On the 2-core benchmark
machine, where the load generator takes the other core, both measured the same; with a free
core the process keeps the event loop's CPU to itself. Either way one thread owns every
backend connection, since backends are not thread-safe.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from issue_core.core.config import BackendConfig
from issue_core.core.errors import BackendUnavailable, IssueCoreError
from issue_core.core.models import Issue, IssueFilter
from issue_core.server.delivery import (
    BackendPool,
    deliver_due,
    describe,
    is_permanent,
    retry_delay,
    snapshot,
)
from issue_core.server.outbox import StateStore, TaskRow

log = logging.getLogger("issue_core.server")

OUTBOX_POLL_SECONDS = 2.0
MAX_MERGE = 64
WRITER_LOCK = "writer.lock"


# --------------------------------------------------------------------------- data


@dataclass
class ErrorInfo:
    """An error crossing the stage boundary (exceptions do not pickle reliably)."""

    code: str
    message: str
    hint: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, IssueCoreError):
            return cls(exc.code, exc.message, exc.hint)
        return cls("internal", "internal error while writing to the backend")

    def as_error(self) -> IssueCoreError:
        error = IssueCoreError(self.message, hint=self.hint)
        error.code = self.code
        return error


@dataclass
class OutcomeData:
    """``kind``: created | duplicate | queued | rejected"""

    kind: str
    row: TaskRow
    issue: dict[str, Any] | None = None
    error: ErrorInfo | None = None


@dataclass
class WriteJob:
    create: list[tuple[TaskRow, Issue]]
    reread: list[TaskRow] = field(default_factory=list)


@dataclass
class WriteResult:
    outcomes: list[OutcomeData]  # one per job.create, then one per job.reread
    records: list[tuple[Any, ...]]  # applied to the state db by ``apply_record``


def apply_record(store: StateStore, conn: Any, record: tuple[Any, ...]) -> None:
    kind, tracking_id, *rest = record
    if kind == "delivered":
        number, shot = rest
        store.mark_delivered(conn, tracking_id, number, shot)
    elif kind == "pending":
        error, due, attempted = rest
        store.mark_pending(conn, tracking_id, error=error, next_attempt_at=due, attempted=attempted)
    elif kind == "release":
        store.release(conn, tracking_id)
    else:  # pragma: no cover - a programming error
        raise ValueError(f"unknown record {kind!r}")


# --------------------------------------------------------------------------- the logic


class BackendStage:
    """Creates issues for jobs; delivers the outbox; answers probes. One thread only."""

    def __init__(self, state_path: Path, pool: BackendPool) -> None:
        self.store = StateStore(state_path)
        self.pool = pool
        self.next_outbox_check = 0.0

    def close(self) -> None:
        self.pool.close()
        self.store.close()

    def run(self, jobs: list[WriteJob]) -> list[WriteResult]:
        """Run several jobs as one write (one fsync), then split the results per job."""
        create = [item for job in jobs for item in job.create]
        records: list[tuple[Any, ...]] = []
        created = self._create_all(create, records)
        results = []
        start = 0
        for job in jobs:
            end = start + len(job.create)
            outcomes = created[start:end] + [self._reread(row) for row in job.reread]
            mine = {row.tracking_id for row, _ in job.create}
            results.append(WriteResult(outcomes, [r for r in records if r[1] in mine]))
            start = end
        return results

    def probe(self, backend: str) -> tuple[bool, str]:
        info = self.pool.get(backend).test_connection()
        failed = [f"{name}: {detail}" for name, (ok, detail) in info.checks.items() if not ok]
        return (not failed, "; ".join(failed) or "ok")

    def outbox_round(self) -> None:
        try:
            deliver_due(self.store, self.pool, limit=20)
            upcoming = self.store.next_due_at()
        except Exception:
            log.exception("outbox delivery round failed")
            upcoming = None
        now = time.time()
        wake = now + OUTBOX_POLL_SECONDS
        if upcoming is not None:
            opened = [c.open_until for c in self.pool.circuits.values() if c.is_open(now)]
            wake = min(wake, max([upcoming, *opened]))
        self.next_outbox_check = max(wake, now + 0.05)

    # -- creating -----------------------------------------------------------------------

    def _create_all(
        self, create: list[tuple[TaskRow, Issue]], records: list[tuple[Any, ...]]
    ) -> list[OutcomeData]:
        outcomes: dict[str, OutcomeData] = {}
        groups: dict[str, list[tuple[TaskRow, Issue]]] = {}
        for item in create:
            groups.setdefault(item[0].backend, []).append(item)
        for name, items in groups.items():
            try:
                self._create_group(name, items, records, outcomes)
            except Exception as exc:  # pragma: no cover - defensive: a bug must not stall us
                log.exception("creating a batch on %s failed", name)
                self._failed([row for row, _ in items], exc, records, outcomes)
        return [outcomes[row.tracking_id] for row, _ in create]

    def _create_group(
        self,
        name: str,
        items: list[tuple[TaskRow, Issue]],
        records: list[tuple[Any, ...]],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        """One backend's share: one bulk transaction where the backend offers
        ``bulk_create`` (the local store does), else one by one."""
        circuit = self.pool.circuit(name)
        if circuit.is_open(time.time()):
            for row, _ in items:
                self._park(row, records, outcomes)
            return
        try:
            backend = self.pool.get(name)
        except Exception as exc:
            self._failed([row for row, _ in items], exc, records, outcomes)
            return
        bulk = getattr(backend, "bulk_create", None)
        if callable(bulk) and len(items) > 1:
            try:
                numbers = bulk([issue for _, issue in items], create_labels=True)
            except BackendUnavailable as exc:
                self._failed([row for row, _ in items], exc, records, outcomes)
                return
            except Exception:
                # All or nothing: nothing was written. One by one, a bad task gets its own error.
                numbers = None
            if numbers is not None:
                stored = _read_back_many(backend, numbers)
                for (row, issue), number in zip(items, numbers, strict=True):
                    found = stored.get(number) or _read_back(backend, issue, number)
                    self._created(row, found, records, outcomes)
                circuit.reset()
                return
        for row, issue in items:
            if circuit.is_open(time.time()):
                self._park(row, records, outcomes)
                continue
            try:
                created = backend.create_issue(issue, create_labels=True)
            except Exception as exc:
                self._failed([row], exc, records, outcomes)
                continue
            circuit.reset()
            self._created(row, created, records, outcomes)

    def _created(
        self,
        row: TaskRow,
        issue: Issue,
        records: list[tuple[Any, ...]],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        records.append(("delivered", row.tracking_id, issue.number, snapshot(issue)))
        row.status, row.issue_number, row.attempts = "delivered", issue.number, 1
        outcomes[row.tracking_id] = OutcomeData("created", row, issue=issue.to_dict())

    def _park(
        self, row: TaskRow, records: list[tuple[Any, ...]], outcomes: dict[str, OutcomeData]
    ) -> None:
        """The backend's circuit is open: straight to the outbox, not attempted."""
        due = self.pool.circuit(row.backend).open_until
        records.append(("pending", row.tracking_id, None, due, False))
        row.status, row.next_attempt_at = "pending", due
        outcomes[row.tracking_id] = OutcomeData("queued", row)
        self.next_outbox_check = min(self.next_outbox_check, due)

    def _failed(
        self,
        rows: list[TaskRow],
        exc: Exception,
        records: list[tuple[Any, ...]],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        info = ErrorInfo.of(exc)
        if is_permanent(exc):
            for row in rows:
                records.append(("release", row.tracking_id))
                outcomes[row.tracking_id] = OutcomeData("rejected", row, error=info)
            return
        now = time.time()
        name = rows[0].backend
        if isinstance(exc, BackendUnavailable):
            self.pool.circuit(name).trip(exc, now)
            self.pool.discard(name)
        elif not isinstance(exc, IssueCoreError):
            log.error("unexpected error creating on %s", name, exc_info=exc)
        due = now + retry_delay(0, exc)
        error = describe(exc)
        for row in rows:
            records.append(("pending", row.tracking_id, error, due, True))
            row.status, row.last_error, row.attempts, row.next_attempt_at = "pending", error, 1, due
            outcomes[row.tracking_id] = OutcomeData("queued", row, error=info)
        self.next_outbox_check = min(self.next_outbox_check, due)

    def _reread(self, row: TaskRow) -> OutcomeData:
        """A repeat of a delivered task: the existing issue as it is now (the creation-time
        snapshot if the backend cannot be read)."""
        issue = row.snapshot
        if row.issue_number is not None:
            try:
                issue = self.pool.get(row.backend).get_issue_by_number(row.issue_number).to_dict()
            except Exception as exc:
                log.debug("reading issue #%s failed: %s", row.issue_number, describe(exc))
        return OutcomeData("duplicate", row, issue=issue)


def _read_back_many(backend: Any, numbers: list[int]) -> dict[int, Issue]:
    """The issues just created, in one query: the newest ones, by number. Another writer's
    concurrent creates may crowd some out; those are read one by one."""
    try:
        newest = backend.list_issues(
            IssueFilter(state=None, sort="number", direction="desc", limit=len(numbers) + 8)
        )
    except Exception:
        return {}
    wanted = set(numbers)
    return {i.number: i for i in newest if i.number in wanted}


def _read_back(backend: Any, sent: Issue, number: int) -> Issue:
    try:
        issue: Issue = backend.get_issue_by_number(number)
        return issue
    except Exception:
        # Created and committed; only the read failed: answer with what was sent.
        copy = Issue.from_dict(sent.to_dict())
        copy.number = number
        return copy


# --------------------------------------------------------------------------- the loop

# Messages in:  ("job", job_id, WriteJob) | ("probe", probe_id, backend) | ("stop",)
# Messages out: ("done", [(job_id, WriteResult)]) | ("probe", probe_id, (ok, detail))


def stage_loop(
    inbox: queue.SimpleQueue[tuple[Any, ...]],
    emit: Callable[[tuple[Any, ...]], None],
    stage: BackendStage,
) -> None:
    while True:
        timeout = min(stage.next_outbox_check - time.time(), OUTBOX_POLL_SECONDS)
        try:
            first = inbox.get(timeout=timeout) if timeout > 0 else inbox.get_nowait()
        except queue.Empty:
            first = None
        messages = [] if first is None else [first]
        while messages and len(messages) < MAX_MERGE:
            try:
                messages.append(inbox.get_nowait())
            except queue.Empty:
                break
        jobs = [(m[1], m[2]) for m in messages if m[0] == "job"]
        if jobs:
            # Jobs that queued up while the last write ran go out as one write (one fsync).
            results = stage.run([job for _, job in jobs])
            emit(("done", [(job_id, r) for (job_id, _), r in zip(jobs, results, strict=True)]))
        for message in messages:
            if message[0] == "probe":
                try:
                    answer: tuple[bool, str] = stage.probe(message[2])
                except IssueCoreError as exc:
                    answer = (False, exc.one_line())
                except Exception as exc:
                    answer = (False, f"internal error: {type(exc).__name__}")
                emit(("probe", message[1], answer))
        if any(m[0] == "stop" for m in messages):
            return
        if time.time() >= stage.next_outbox_check:
            stage.outbox_round()


# --------------------------------------------------------------------------- transports


@dataclass
class StageConfig:
    """Everything the stage needs, picklable for a child process."""

    state_path: Path
    backends: Mapping[str, BackendConfig]
    identity: str
    builtin_backends: dict[str, str]  # BUILTIN_BACKENDS as the parent sees it

    def open(self) -> BackendStage:
        from issue_core.backends import BUILTIN_BACKENDS

        BUILTIN_BACKENDS.update(self.builtin_backends)
        return BackendStage(self.state_path, BackendPool(dict(self.backends), self.identity))


class ThreadTransport:
    """The stage on a thread of this process."""

    def __init__(self, config: StageConfig, on_message: Callable[[tuple[Any, ...]], None]):
        self.config = config
        self.on_message = on_message
        self.inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        stage = self.config.open()  # errors surface in the caller
        self._thread = threading.Thread(
            target=self._run, args=(stage,), name="issue-core-backends", daemon=True
        )
        self._thread.start()

    def _run(self, stage: BackendStage) -> None:
        try:
            stage_loop(self.inbox, self.on_message, stage)
        finally:
            stage.close()

    def send(self, message: tuple[Any, ...]) -> None:
        self.inbox.put(message)

    def stop(self, timeout: float) -> None:
        if self._thread is not None:
            self.inbox.put(("stop",))
            self._thread.join(timeout)
            self._thread = None


class ProcessTransport:
    """The stage in a child process, talking over a pipe.

    The child holds ``writer.lock`` in the state folder while it runs. If the server is killed,
    its child finishes the write in hand and exits (its pipe closes); a restarted server's
    child waits for that lock before writing anything, so it never races a dying one when it
    checks markers of interrupted tasks.
    """

    def __init__(self, config: StageConfig, on_message: Callable[[tuple[Any, ...]], None]):
        self.config = config
        self.on_message = on_message
        self._process: Any = None
        self._conn: Any = None
        self._receiver: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self.stopping = False

    def start(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_child_main, args=(child, self.config), name="issue-core-writer", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        ready = parent.recv()  # ("ready",) or ("error", ErrorInfo)
        if ready[0] != "ready":
            self._process.join(5)
            raise ready[1].as_error()
        self._receiver = threading.Thread(
            target=self._receive, name="issue-core-writer-pipe", daemon=True
        )
        self._receiver.start()

    def _receive(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                if not self.stopping:
                    self.on_message(("died",))
                return
            if message[0] == "stopped":
                return
            self.on_message(message)

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(message)

    def stop(self, timeout: float) -> None:
        if self._process is None:
            return
        self.stopping = True
        try:
            self.send(("stop",))
        except OSError:
            pass
        if self._receiver is not None:
            self._receiver.join(timeout)
        self._process.join(timeout)
        if self._process.is_alive():  # pragma: no cover - a stuck backend
            self._process.kill()
        self._process = None


def _child_main(conn: Any, config: StageConfig) -> None:
    import fcntl

    from issue_core.server.logs import configure_logging

    configure_logging(os.environ.get("ISSUE_CORE_LOG_LEVEL", "info"), access_log=False)
    lock_fd = os.open(config.state_path.parent / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)  # wait for a dying predecessor to finish its write
    try:
        stage = config.open()
    except Exception as exc:
        conn.send(("error", ErrorInfo.of(exc)))
        return
    conn.send(("ready",))
    inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()

    def pump() -> None:
        while True:
            try:
                inbox.put(conn.recv())
            except (EOFError, OSError):
                inbox.put(("stop",))  # the server is gone: finish and exit
                return

    threading.Thread(target=pump, daemon=True).start()
    try:
        stage_loop(inbox, _sender(conn), stage)
    finally:
        stage.close()
        try:
            conn.send(("stopped",))
        except OSError:
            pass


def _sender(conn: Any) -> Callable[[tuple[Any, ...]], None]:
    def emit(message: tuple[Any, ...]) -> None:
        try:
            conn.send(message)
        except OSError:
            pass  # the server is gone; its tasks are healed from the state db at restart

    return emit
