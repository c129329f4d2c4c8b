"""Writing ingested tasks to backends: which errors are worth retrying, when, and how.

The outbox's attempts apply the one failure policy and backoff (``service/failures.py``, the
same ``classify`` a first attempt asks) and keep the per-backend circuit and connections
(``Circuit``, ``BackendPool``). Shared by the server's pipeline thread and by ``issue outbox retry``
(which runs without the server), so it imports no web framework. Backends are not thread-safe: a
``BackendPool`` belongs to the one thread that created it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from issue_core.core.backoff import backoff
from issue_core.core.config import BackendConfig
from issue_core.core.errors import (
    IssueCoreError,
    NotFound,
)
from issue_core.core.interfaces import IssueBackend
from issue_core.core.models import Issue
from issue_core.server.outbox import StateStore
from issue_core.service.failures import Verdict, classify, describe
from issue_core.service.ingest import snapshot_json
from issue_core.service.tasks import TaskRow

log = logging.getLogger("issue_core.server")

# A lease's last resort: a worker that dies is noticed at once by its free lock (LeaseHolder),
# and a live one is never robbed; the expiry only frees rows whose owner cannot be checked
# (leased by an older version, or a lock file this process may not open).
LEASE_SECONDS = 300.0


@dataclass
class Circuit:
    """Per-backend breaker: after an outage, new tasks go straight to the outbox for a while
    instead of each waiting on a dead backend; the outbox worker probes when it closes."""

    failures: int = 0
    open_until: float = 0.0

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def trip(self, exc: BaseException, now: float) -> float:
        self.failures += 1
        self.open_until = now + backoff(self.failures - 1, base=0.5, cap=30.0, exc=exc)
        return self.open_until

    def reset(self) -> None:
        self.failures = 0
        self.open_until = 0.0


@dataclass
class BackendPool:
    """Connected backends by configured name, opened on first use in the owning thread."""

    configs: Mapping[str, BackendConfig]
    identity: str
    # ``issue serve --synchronous``: how local-store backends commit ("full": fsync each time).
    synchronous: str = "full"
    _open: dict[str, IssueBackend] = field(default_factory=dict)
    circuits: dict[str, Circuit] = field(default_factory=dict)

    def get(self, name: str) -> IssueBackend:
        backend = self._open.get(name)
        if backend is None:
            from issue_core.service import runtime

            chosen = self.configs.get(name)
            if chosen is None:
                raise NotFound(f"no backend named {name!r} is configured for this server")
            if self.synchronous != "full" and chosen.type == "local":
                chosen = _with_setting(chosen, "synchronous", self.synchronous)
            backend = runtime.connect(chosen, self.identity)
            self._open[name] = backend
        return backend

    def circuit(self, name: str) -> Circuit:
        return self.circuits.setdefault(name, Circuit())

    def outage(self, name: str, exc: BaseException, now: float) -> None:
        """``name`` is down: open its circuit and drop the connection."""
        self.circuit(name).trip(exc, now)
        self.discard(name)

    def discard(self, name: str) -> None:
        """Drop a backend after an outage so the next use reconnects."""
        backend = self._open.pop(name, None)
        if backend is not None:
            try:
                backend.close()
            except Exception:  # pragma: no cover - closing a broken connection
                log.debug("closing backend %s failed", name, exc_info=True)

    def close(self) -> None:
        for name in list(self._open):
            self.discard(name)


def _with_setting(chosen: BackendConfig, key: str, value: Any) -> BackendConfig:
    """``chosen`` with one more setting (the configured object itself is left as it was)."""
    changed = copy.copy(chosen)  # name, type, source and trust as configured
    changed.settings = {**chosen.settings, key: value}
    return changed


def create_on_backend(pool: BackendPool, row: TaskRow) -> Issue:
    """Create ``row``'s issue, first looking for its marker if an attempt may have landed
    (``row`` as ``StateStore.lease`` returns it: ``maybe_written`` speaks of earlier attempts;
    the lease itself has already marked this one in the state db)."""
    backend = pool.get(row.backend)
    if row.maybe_written:
        # The issue an earlier, interrupted attempt may have created (its marker).
        found = backend.find_issue_by_marker(row.marker)
        if found is not None:
            return found
    return backend.create_issue(Issue.from_dict(row.issue_data), create_labels=True)


def snapshot(issue: Issue) -> str:
    return snapshot_json(issue.to_dict())


@dataclass
class DeliveryResult:
    row: TaskRow
    issue: Issue | None = None
    error: BaseException | None = None


def deliver_outbox_row(store: StateStore, pool: BackendPool, row: TaskRow) -> DeliveryResult:
    """One attempt at a leased outbox row; records the outcome and returns it."""
    now = time.time()
    try:
        issue = create_on_backend(pool, row)
    except BaseException as exc:
        if not isinstance(exc, Exception):
            # Interrupted (Ctrl-C): give the lease back so the row is retried soon.
            with store.transaction() as conn:
                store.mark_pending(
                    conn,
                    row.tracking_id,
                    error=row.last_error,
                    next_attempt_at=now,
                    attempted=True,
                )
            raise
        record_failure(store, pool, row, exc, now)
        return DeliveryResult(store.get(row.tracking_id) or row, error=exc)
    pool.circuit(row.backend).reset()
    with store.transaction() as conn:
        store.mark_delivered(conn, row.tracking_id, issue.number, snapshot(issue))
    return DeliveryResult(store.get(row.tracking_id) or row, issue=issue)


def record_failure(
    store: StateStore, pool: BackendPool, row: TaskRow, exc: BaseException, now: float
) -> None:
    """An outbox attempt failed: its client already has a 202, so a permanent error marks the
    task failed (it is not released: the key stays answered)."""
    failure = classify(exc, row.attempts, now)
    with store.transaction() as conn:
        if failure.verdict is Verdict.PERMANENT:
            store.mark_failed(conn, row.tracking_id, describe(exc))
            return
        if failure.unavailable:
            pool.outage(row.backend, exc, now)
        if failure.verdict is Verdict.PARK:
            log.error("task %s failed %d times; parking it", row.tracking_id, row.attempts + 1)
            store.mark_failed(conn, row.tracking_id, describe(exc))
            return
        if failure.unexpected:
            log.error("unexpected error delivering %s", row.tracking_id, exc_info=exc)
        assert failure.due is not None
        store.mark_pending(
            conn,
            row.tracking_id,
            error=describe(exc),
            next_attempt_at=failure.due,
            attempted=True,
        )


def deliver_due(
    store: StateStore,
    pool: BackendPool,
    *,
    owner: str,
    limit: int = 20,
    only: str | None = None,
) -> list[DeliveryResult]:
    """Deliver outbox rows that are due (or the one named ``only``), skipping backends whose
    circuit is open, under leases held by ``owner`` (a ``LeaseHolder`` token). Returns what
    happened to each row attempted."""
    now = time.time()
    results: list[DeliveryResult] = []
    closed = [name for name, circuit in pool.circuits.items() if circuit.is_open(now)]
    rows = [store.get(only)] if only else store.due(now=now, limit=limit, skip=closed)
    for candidate in rows:
        if candidate is None:
            continue
        if not only and pool.circuit(candidate.backend).is_open(now):
            continue
        leased = store.lease(
            candidate.tracking_id, seconds=LEASE_SECONDS, statuses=("pending",), owner=owner
        )
        if leased is None:
            continue
        results.append(deliver_outbox_row(store, pool, leased))
    return results


def public_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, IssueCoreError):
        data: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.hint:
            data["hint"] = exc.hint
        return data
    return {"code": "internal", "message": "internal error while writing to the backend"}
