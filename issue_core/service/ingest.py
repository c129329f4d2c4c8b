"""Ingestion, the use case: a validated task becomes an issue on its backend, exactly once,
whichever front end took it (``POST /issues/`` today, a NATS consumer next:
docs/nats-task-ingestion.md).

The steps, each a function here:

1. ``prepare``: a ``TaskInput`` (``service/tasks.py``) becomes the issue to create, with its
   traceability metadata (where it came from, how it arrived, a ``marker`` a retry finds it by),
   and the state db's row, keyed by its idempotency key (``tasks.idempotency_key_for``; a task
   whose original was stored under the older key form takes that key:
   ``tasks.stored_original_key``);
2. ``claim``: the rows go into the state db, durably, before any backend sees them; a row whose
   key is taken is a repeat, answered from the original;
3. ``create_batch``: one bulk transaction per backend where the backend writes batches all or
   nothing (``BULK_CREATE``), else one by one; a failure is classified once
   (``failures.classify``): refused for good → released and answered 422, an outage → the
   circuit opens and the task waits in the outbox (202), a bug → logged and queued;
4. ``record``: the outcomes into the state db, inside a transaction it is handed.

The server's pipeline (``server/pipeline.py``) runs 4 of one cycle and 2 of the next in a single
durable transaction (group commit) and calls ``create_batch`` between them, so there is one bulk
transaction per cycle, never one per task. The state db's rows and the backend pool are handed
in (``Row``, ``Pool``, ``ClaimStore``, ``RecordStore``: what is used of them), so the service
imports no front end, no web framework and no validation library. Everything here is plain data
that pickles: it crosses the writer process's pipe.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from issue_core._version import __version__
from issue_core.core.errors import BackendUnavailable, IssueCoreError, ValidationError
from issue_core.core.interfaces import Capability, IssueBackend
from issue_core.core.models import Issue, IssueState, format_ts, parse_priority, utcnow
from issue_core.service.failures import Verdict, classify, describe
from issue_core.service.ids import new_id
from issue_core.service.tasks import (
    ACTIVITY_FIELDS,
    TaskInput,
    TaskRow,
    idempotency_key_for,
    marker_for,
)

# The server's logger: these lines are the server's, as they were when this lived there.
log = logging.getLogger("issue_core.server")


class Row(Protocol):
    """What the use case reads and updates of a task's state-db row (``tasks.TaskRow``)."""

    tracking_id: str
    backend: str
    status: str
    issue_number: int | None
    attempts: int
    last_error: str | None
    next_attempt_at: float | None


class Circuit(Protocol):
    open_until: float

    def is_open(self, now: float) -> bool: ...
    def reset(self) -> None: ...


class Pool(Protocol):
    """The connected backends by name and their circuits (``server.delivery.BackendPool``)."""

    def get(self, name: str) -> IssueBackend: ...
    def circuit(self, name: str) -> Circuit: ...
    def outage(self, name: str, exc: BaseException, now: float) -> None: ...


class ClaimStore(Protocol):
    """The state db's claim (``server.outbox.StateStore``)."""

    def claim_many(self, conn: Any, rows: list[TaskRow]) -> dict[int, TaskRow]: ...


class RecordStore(Protocol):
    """The state db's writes that record outcomes (``server.outbox.StateStore``)."""

    def mark_pending(
        self,
        conn: Any,
        tracking_id: str,
        *,
        error: str | None,
        next_attempt_at: float,
        attempted: bool,
    ) -> None: ...
    def release(self, conn: Any, tracking_id: str) -> Any: ...
    def mark_delivered_many(self, conn: Any, rows: list[tuple[str, int | None, str]]) -> Any: ...


# --------------------------------------------------------------------------- outcomes


class OutcomeKind(StrEnum):
    """What happened to one submitted task (the answer's ``status`` for the first three)."""

    CREATED = "created"  # 201: the issue exists on its backend
    DUPLICATE = "duplicate"  # 200: the key's task was accepted before
    QUEUED = "queued"  # 202: durable in the outbox, delivered later
    REJECTED = "rejected"  # 422: the backend refused the task for good; its claim released
    FAILED_BEFORE = "failed_before"  # 409: the key's earlier task failed
    ERROR = "error"  # 503: not claimed (state db or writer failed); a retry is safe


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
    """A task's outcome as the pipeline sends it (``worker.Outcome`` on the event loop's side)."""

    kind: OutcomeKind
    row: Any  # the task's row as the server holds it (server.outbox.TaskRow)
    issue: dict[str, Any] | None = None
    error: ErrorInfo | None = None


@dataclass
class Delivered:
    """The task's issue was created: record its number and a snapshot."""

    tracking_id: str
    number: int | None
    snapshot: str


@dataclass
class Pending:
    """The task goes to the outbox, due at ``due`` (``attempted``: a backend saw it)."""

    tracking_id: str
    error: str | None
    due: float
    attempted: bool


@dataclass
class Release:
    """The backend refused the task for good on its first attempt: free its key."""

    tracking_id: str


Record = Delivered | Pending | Release


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class RequestContext:
    """How a task arrived: the request's id, the API key's fingerprint, the transport's key."""

    request_id: str
    key_fingerprint: str | None
    header_idempotency_key: str | None = None
    # The older-form key this task's original is stored under (tasks.stored_original_key).
    stored_key: str | None = None


@dataclass
class PreparedTask:
    row: TaskRow
    issue: Issue
    warnings: list[str] = field(default_factory=list)


def prepare(task: TaskInput, context: RequestContext, backend: str) -> PreparedTask:
    """The state-db row for ``task`` and the issue to create on ``backend``, with its
    traceability metadata. Raises ``ValidationError`` for what JSON cannot store (NaN)."""
    tracking_id = new_id()
    received = utcnow()
    warnings: list[str] = []
    key = context.stored_key or idempotency_key_for(task, context.header_idempotency_key)
    if key is None:
        warnings.append(
            "no idempotency key: a retry of this request would create a second issue"
            " (send idempotency_key, or source.system and source.event_id)"
        )
    if task.extra:
        names = ", ".join(sorted(task.extra))
        warnings.append(f"unknown fields kept under sync_metadata.extra_fields: {names}")

    labels = list(task.labels)
    if task.priority is not None:
        labels.append(f"priority:{task.priority}")

    marker = marker_for(tracking_id)
    received_at = format_ts(received)
    assert received_at is not None  # a datetime always formats
    sync_metadata: dict[str, Any] = {
        "marker": marker,
        "source": task.source,
        "ingest": {
            "tracking_id": tracking_id,
            "request_id": context.request_id,
            "received_at": received_at,
            "idempotency_key": key,
            "key_fingerprint": context.key_fingerprint,
            "backend": backend,
            "server_version": __version__,
        },
    }
    if task.priority is not None:
        sync_metadata["priority"] = task.priority
    if task.metadata:
        sync_metadata["metadata"] = task.metadata
    if task.target_repo is not None:
        sync_metadata["target_repo"] = task.target_repo
    activity = dict(zip(ACTIVITY_FIELDS, task.activity_ids(), strict=True))
    if any(value is not None for value in activity.values()):
        sync_metadata["activity"] = {k: v for k, v in activity.items() if v is not None}
    if task.extra:
        sync_metadata["extra_fields"] = dict(task.extra)

    issue = Issue(
        title=task.title,
        description=task.description or "",
        state=IssueState.parse(task.state),
        labels=labels,
        assignees=[task.assignee] if task.assignee else [],
        milestone=task.milestone,
        sync_metadata=sync_metadata,
        priority=_scale(task.priority),
        due_at=received + timedelta(days=task.due_in_days)
        if task.due_in_days is not None
        else None,
    )
    now = time.time()
    row = TaskRow(
        tracking_id=tracking_id,
        idempotency_key=key,
        backend=backend,
        status="claimed",
        marker=marker,
        issue_json=_issue_json(issue),
        request_id=context.request_id,
        received_at=received_at,
        created_at=now,
        updated_at=now,
    )
    return PreparedTask(row=row, issue=issue, warnings=warnings)


def claim(store: ClaimStore, conn: Any, rows: list[TaskRow]) -> dict[int, TaskRow]:
    """Claim the keys of prepared tasks (inside the caller's durable transaction): returns, by
    index in ``rows``, the original row of each repeat. Only the others go on to
    ``create_batch``; each claimed row is stored as possibly written, so that a crash during its
    create is looked up by marker before another attempt."""
    return store.claim_many(conn, rows) if rows else {}


def create_batch(
    pool: Pool, items: Sequence[tuple[Row, Issue]], records: list[Record]
) -> list[OutcomeData]:
    """Create the issues of claimed tasks, in ``items``' order: one outcome each; appends what
    to record (``Delivered``/``Pending``/``Release``) to ``records``. Updates each row as the
    state db will hold it once ``record`` has run."""
    return _Batch(pool, records).create(items)


def record(store: RecordStore, conn: Any, records: list[Record]) -> None:
    """Record outcomes in the state db (inside a transaction); deliveries in one statement."""
    delivered: list[tuple[str, int | None, str]] = []
    for item in records:
        if isinstance(item, Delivered):
            delivered.append((item.tracking_id, item.number, item.snapshot))
        elif isinstance(item, Pending):
            store.mark_pending(
                conn,
                item.tracking_id,
                error=item.error,
                next_attempt_at=item.due,
                attempted=item.attempted,
            )
        elif isinstance(item, Release):
            store.release(conn, item.tracking_id)
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown record {item!r}")
    if delivered:
        store.mark_delivered_many(conn, delivered)


def snapshot_json(data: dict[str, Any]) -> str:
    """The delivery record's copy of an issue (``Issue.to_dict()``), as compact JSON."""
    return json.dumps(data, separators=(",", ":"))


def _scale(priority: str | int | None) -> int | None:
    """activity-core's high/medium/low (and 0-4, p0-p4, critical, backlog) on the one
    priority scale; other priority words stay labels only."""
    try:
        return parse_priority(priority)
    except ValidationError:
        return None


def _issue_json(issue: Issue) -> str:
    try:
        return json.dumps(issue.to_dict(), separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ValidationError(
            "the task contains NaN or Infinity, which JSON does not allow"
        ) from None


class _Batch:
    """One ``create_batch`` call: the pool, and the records and outcomes it builds."""

    def __init__(self, pool: Pool, records: list[Record]) -> None:
        self.pool = pool
        self.records = records
        self.outcomes: dict[str, OutcomeData] = {}

    def create(self, create: Sequence[tuple[Row, Issue]]) -> list[OutcomeData]:
        groups: dict[str, list[tuple[Row, Issue]]] = {}
        for item in create:
            groups.setdefault(item[0].backend, []).append(item)
        for name, items in groups.items():
            try:
                self._create_group(name, items)
            except Exception as exc:  # pragma: no cover - defensive: a bug must not stall us
                log.exception("creating a batch on %s failed", name)
                self._failed([row for row, _ in items], exc)
        return [self.outcomes[row.tracking_id] for row, _ in create]

    def _create_group(
        self,
        name: str,
        items: list[tuple[Row, Issue]],
    ) -> None:
        """One backend's share: one bulk transaction where the backend writes batches all or
        nothing (``BULK_CREATE``: the local store does), else one by one."""
        circuit = self.pool.circuit(name)
        if circuit.is_open(time.time()):
            for row, _ in items:
                self._park(row)
            return
        try:
            backend = self.pool.get(name)
        except Exception as exc:
            self._failed([row for row, _ in items], exc)
            return
        if len(items) > 1 and backend.supports(Capability.BULK_CREATE):
            try:
                stored: list[Issue] | None = backend.bulk_create(
                    [issue for _, issue in items], create_labels=True
                )
            except BackendUnavailable as exc:
                self._failed([row for row, _ in items], exc)
                return
            except Exception:
                # All or nothing: nothing was written. One by one, a bad task gets its own error.
                stored = None
            if stored is not None:
                # bulk_create returns the issues as stored: no read-back.
                for (row, _), issue in zip(items, stored, strict=True):
                    self._created(row, issue)
                circuit.reset()
                return
        for row, issue in items:
            if circuit.is_open(time.time()):
                self._park(row)
                continue
            try:
                created = backend.create_issue(issue, create_labels=True)
            except Exception as exc:
                self._failed([row], exc)
                continue
            circuit.reset()
            self._created(row, created)

    def _created(
        self,
        row: Row,
        issue: Issue,
    ) -> None:
        data = issue.to_dict()  # one conversion for the record and the answer
        self.records.append(Delivered(row.tracking_id, issue.number, snapshot_json(data)))
        row.status, row.issue_number, row.attempts = "delivered", issue.number, 1
        self.outcomes[row.tracking_id] = OutcomeData(OutcomeKind.CREATED, row, issue=data)

    def _park(self, row: Row) -> None:
        """The backend's circuit is open: straight to the outbox, not attempted."""
        due = self.pool.circuit(row.backend).open_until
        self.records.append(Pending(row.tracking_id, None, due, False))
        row.status, row.next_attempt_at = "pending", due
        self.outcomes[row.tracking_id] = OutcomeData(OutcomeKind.QUEUED, row)

    def _failed(
        self,
        rows: list[Row],
        exc: Exception,
    ) -> None:
        """A first attempt failed (``failures.classify``): refused for good, the claim is
        released and the client told (422); otherwise the task goes to the outbox (202)."""
        info = ErrorInfo.of(exc)
        now = time.time()
        failure = classify(exc, 0, now)
        if failure.verdict is Verdict.PERMANENT:
            for row in rows:
                self.records.append(Release(row.tracking_id))
                self.outcomes[row.tracking_id] = OutcomeData(OutcomeKind.REJECTED, row, error=info)
            return
        name = rows[0].backend
        if failure.unavailable:
            self.pool.outage(name, exc, now)
        elif failure.unexpected:
            log.error("unexpected error creating on %s", name, exc_info=exc)
        assert failure.due is not None  # a first attempt is never parked
        due = failure.due
        error = describe(exc)
        for row in rows:
            self.records.append(Pending(row.tracking_id, error, due, True))
            row.status, row.last_error, row.attempts, row.next_attempt_at = "pending", error, 1, due
            self.outcomes[row.tracking_id] = OutcomeData(OutcomeKind.QUEUED, row, error=info)
