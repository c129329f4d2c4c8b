"""The backend stage of the ingestion pipeline: one thread that owns every backend connection.

It receives batches of tasks already claimed in the state db (by ``IngestWorker``), creates
their issues (in one bulk transaction where the backend offers ``bulk_create``), and hands back
the outcomes plus the bookkeeping to record. Between batches it delivers due outbox tasks and
answers readiness probes. Backends are not thread-safe, which is why they live on this one
thread; the state db has its own thread, so a backend write and the next batch's claim commit
overlap instead of queueing behind each other.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
Record = Callable[[Any], None]  # applied to a state-db connection inside one transaction


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
class Submission:
    row: TaskRow
    future: asyncio.Future[Outcome]
    loop: asyncio.AbstractEventLoop
    issue: Issue
    existing: TaskRow | None = None
    outcome: Outcome | None = None


@dataclass
class Batch:
    """Work for the backend stage: tasks to create, and duplicates whose existing issue to read."""

    claimed: list[Submission]
    reread: list[Submission] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    parts: int = 1  # how many batches the claim stage sent that this one carries


@dataclass
class Probe:
    """Run ``fn(pool)`` on the backend thread (backends are bound to it)."""

    fn: Callable[[BackendPool], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


STOP = object()


class BackendWriter:
    def __init__(
        self,
        state_path: Path,
        pool_factory: Callable[[], BackendPool],
        on_done: Callable[[Batch], None],
    ) -> None:
        self.state_path = state_path
        self.pool_factory = pool_factory
        self.on_done = on_done
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._next_outbox_check = 0.0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="issue-core-backends", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    def stop(self, timeout: float) -> None:
        if self._thread is not None:
            self.inbox.put(STOP)
            self._thread.join(timeout)
            self._thread = None

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.store = StateStore(self.state_path)
            self.pool = self.pool_factory()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while self._step():
                pass
        finally:
            self.pool.close()
            self.store.close()

    def _step(self) -> bool:
        timeout = min(self._next_outbox_check - time.time(), OUTBOX_POLL_SECONDS)
        try:
            item = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
        except queue.Empty:
            item = None
        items = [] if item is None else [item]
        while items and len(items) < MAX_MERGE:
            try:
                items.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        batches = [i for i in items if isinstance(i, Batch)]
        if batches:
            # Batches that queued up while the last write ran go out as one write (one fsync).
            merged = Batch(
                [s for b in batches for s in b.claimed],
                [s for b in batches for s in b.reread],
                parts=sum(b.parts for b in batches),
            )
            self._process(merged)
            self.on_done(merged)
        for probe in (i for i in items if isinstance(i, Probe)):
            self._run_probe(probe)
        if any(i is STOP for i in items):
            return False
        if time.time() >= self._next_outbox_check:
            self._deliver_outbox()
        return True

    def _deliver_outbox(self) -> None:
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
        self._next_outbox_check = max(wake, now + 0.05)

    def _run_probe(self, probe: Probe) -> None:
        try:
            result = probe.fn(self.pool)
        except BaseException as exc:
            probe.loop.call_soon_threadsafe(_set_exception, probe.future, exc)
        else:
            probe.loop.call_soon_threadsafe(_set_result, probe.future, result)

    # -- one batch ----------------------------------------------------------------------

    def _process(self, batch: Batch) -> None:
        groups: dict[str, list[Submission]] = {}
        for sub in batch.claimed:
            groups.setdefault(sub.row.backend, []).append(sub)
        for name, subs in groups.items():
            try:
                self._create_group(name, subs, batch.records)
            except Exception as exc:  # pragma: no cover - defensive: a bug must not stall us
                log.exception("creating a batch on %s failed", name)
                self._first_attempt_failed(subs, exc, batch.records, time.time())
        for sub in batch.reread:
            assert sub.existing is not None
            sub.outcome = Outcome("duplicate", sub.existing, issue=self._current(sub.existing))

    def _create_group(self, name: str, subs: list[Submission], records: list[Record]) -> None:
        """Create one backend's share of the batch: in one bulk transaction where the backend
        offers ``bulk_create`` (the local store does), else one by one."""
        now = time.time()
        if self.pool.circuit(name).is_open(now):
            for sub in subs:
                self._park(sub, records)
            return
        try:
            backend = self.pool.get(name)
        except Exception as exc:
            self._first_attempt_failed(subs, exc, records, now)
            return
        bulk = getattr(backend, "bulk_create", None)
        if callable(bulk) and len(subs) > 1:
            try:
                numbers = bulk([s.issue for s in subs], create_labels=True)
            except BackendUnavailable as exc:
                self._first_attempt_failed(subs, exc, records, now)
                return
            except Exception:
                # All or nothing: nothing was written. One by one, a bad task gets its own error.
                numbers = None
            if numbers is not None:
                stored = _read_back_many(backend, numbers)
                for sub, number in zip(subs, numbers, strict=True):
                    self._created(
                        sub, stored.get(number) or _read_back(backend, sub, number), records
                    )
                self.pool.circuit(name).reset()
                return
        for sub in subs:
            if self.pool.circuit(name).is_open(time.time()):
                self._park(sub, records)
                continue
            try:
                issue = backend.create_issue(sub.issue, create_labels=True)
            except Exception as exc:
                self._first_attempt_failed([sub], exc, records, time.time())
                continue
            self.pool.circuit(name).reset()
            self._created(sub, issue, records)

    def _created(self, sub: Submission, issue: Issue, records: list[Record]) -> None:
        row, store = sub.row, self.store
        shot = snapshot(issue)
        records.append(lambda conn: store.mark_delivered(conn, row.tracking_id, issue.number, shot))
        row.status, row.issue_number, row.attempts = "delivered", issue.number, 1
        sub.outcome = Outcome("created", row, issue=issue.to_dict())

    def _park(self, sub: Submission, records: list[Record]) -> None:
        """The backend's circuit is open: straight to the outbox, not attempted."""
        row, store = sub.row, self.store
        due = self.pool.circuit(row.backend).open_until
        records.append(
            lambda conn: store.mark_pending(
                conn, row.tracking_id, error=None, next_attempt_at=due, attempted=False
            )
        )
        row.status, row.next_attempt_at = "pending", due
        sub.outcome = Outcome("queued", row)
        self._next_outbox_check = min(self._next_outbox_check, due)

    def _first_attempt_failed(
        self, subs: list[Submission], exc: Exception, records: list[Record], now: float
    ) -> None:
        store = self.store
        if is_permanent(exc):
            for sub in subs:
                records.append(lambda conn, tid=sub.row.tracking_id: store.release(conn, tid))
                sub.outcome = Outcome("rejected", sub.row, error=exc)
            return
        name = subs[0].row.backend
        if isinstance(exc, BackendUnavailable):
            self.pool.circuit(name).trip(exc, now)
            self.pool.discard(name)
        elif not isinstance(exc, IssueCoreError):
            log.error("unexpected error creating on %s", name, exc_info=exc)
        due = now + retry_delay(0, exc)
        error = describe(exc)
        for sub in subs:
            row = sub.row
            records.append(
                lambda conn, tid=row.tracking_id: store.mark_pending(
                    conn, tid, error=error, next_attempt_at=due, attempted=True
                )
            )
            row.status, row.last_error, row.attempts, row.next_attempt_at = "pending", error, 1, due
            sub.outcome = Outcome("queued", row, error=exc)
        self._next_outbox_check = min(self._next_outbox_check, due)

    def _current(self, row: TaskRow) -> dict[str, Any] | None:
        """The existing issue as it is now; the creation-time snapshot if the backend is down."""
        if row.issue_number is not None:
            try:
                return self.pool.get(row.backend).get_issue_by_number(row.issue_number).to_dict()
            except Exception as exc:
                log.debug("reading issue #%s failed: %s", row.issue_number, describe(exc))
        return row.snapshot


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


def _read_back(backend: Any, sub: Submission, number: int) -> Issue:
    try:
        issue: Issue = backend.get_issue_by_number(number)
        return issue
    except Exception:
        # Created and committed; only the read failed: answer with what was sent.
        issue = copy.deepcopy(sub.issue)
        issue.number = number
        return issue


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
