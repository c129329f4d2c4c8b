"""The backend side of the ingestion pipeline: where issues are actually created.

``BackendStage`` creates the issues of tasks already claimed in the state db (in one bulk
transaction where the backend declares ``BULK_CREATE``) and returns their outcomes plus the
bookkeeping to record, as plain picklable data (``messages.py``). It also delivers due outbox
tasks and answers readiness probes. It runs on the pipeline's thread (see ``pipeline.py``), in
the server or in the writer child process (``transport.py``); backends are not thread-safe, and
that one thread owns every backend connection.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from issue_core.core.errors import BackendUnavailable
from issue_core.core.interfaces import Capability
from issue_core.core.models import Issue
from issue_core.server.delivery import (
    BackendPool,
    Verdict,
    classify,
    deliver_due,
    describe,
    snapshot_json,
)
from issue_core.server.messages import (
    Delivered,
    ErrorInfo,
    OutcomeData,
    OutcomeKind,
    Pending,
    Record,
    Release,
)
from issue_core.server.outbox import LeaseHolder, StateStore, TaskRow

log = logging.getLogger("issue_core.server")

OUTBOX_POLL_SECONDS = 2.0


def apply_records(store: StateStore, conn: Any, records: list[Record]) -> None:
    """Record outcomes in the state db (inside a transaction); deliveries in one statement."""
    delivered: list[tuple[str, int | None, str]] = []
    for record in records:
        if isinstance(record, Delivered):
            delivered.append((record.tracking_id, record.number, record.snapshot))
        elif isinstance(record, Pending):
            store.mark_pending(
                conn,
                record.tracking_id,
                error=record.error,
                next_attempt_at=record.due,
                attempted=record.attempted,
            )
        elif isinstance(record, Release):
            store.release(conn, record.tracking_id)
        else:  # pragma: no cover - a programming error
            raise ValueError(f"unknown record {record!r}")
    if delivered:
        store.mark_delivered_many(conn, delivered)


# --------------------------------------------------------------------------- the logic


class BackendStage:
    """Creates issues for jobs; delivers the outbox; answers probes. One thread only."""

    def __init__(self, store: StateStore, pool: BackendPool, holder: LeaseHolder) -> None:
        self.store = store  # the pipeline's: outbox rounds run on the same thread
        self.pool = pool
        self.holder = holder  # owns this stage's outbox leases
        self.next_outbox_check = 0.0

    def close(self) -> None:
        self.pool.close()
        self.holder.release()  # deliveries are synchronous: no lease is held any more

    def probe(self, backend: str) -> tuple[bool, str]:
        info = self.pool.get(backend).test_connection()
        failed = [f"{name}: {detail}" for name, (ok, detail) in info.checks.items() if not ok]
        return (not failed, "; ".join(failed) or "ok")

    def outbox_round(self) -> None:
        try:
            # A worker that died mid-delivery (an `issue outbox retry`, an earlier writer)
            # left rows leased: resume them now, not when their lease runs out.
            healed = self.store.heal(server_gone=False, me=self.holder.token)
            if healed:
                log.warning("requeued %d task(s) a stopped worker left mid-delivery", healed)
            deliver_due(self.store, self.pool, owner=self.holder.token, limit=20)
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

    def create(
        self, create: list[tuple[TaskRow, Issue]], records: list[Record]
    ) -> list[OutcomeData]:
        """Create the issues of claimed tasks; appends what to record to ``records``."""
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
        records: list[Record],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        """One backend's share: one bulk transaction where the backend writes batches all or
        nothing (``BULK_CREATE``: the local store does), else one by one."""
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
        if len(items) > 1 and backend.supports(Capability.BULK_CREATE):
            try:
                stored: list[Issue] | None = backend.bulk_create(
                    [issue for _, issue in items], create_labels=True
                )
            except BackendUnavailable as exc:
                self._failed([row for row, _ in items], exc, records, outcomes)
                return
            except Exception:
                # All or nothing: nothing was written. One by one, a bad task gets its own error.
                stored = None
            if stored is not None:
                # bulk_create returns the issues as stored: no read-back.
                for (row, _), issue in zip(items, stored, strict=True):
                    self._created(row, issue, records, outcomes)
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
        records: list[Record],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        data = issue.to_dict()  # one conversion for the record and the answer
        records.append(Delivered(row.tracking_id, issue.number, snapshot_json(data)))
        row.status, row.issue_number, row.attempts = "delivered", issue.number, 1
        outcomes[row.tracking_id] = OutcomeData(OutcomeKind.CREATED, row, issue=data)

    def _park(self, row: TaskRow, records: list[Record], outcomes: dict[str, OutcomeData]) -> None:
        """The backend's circuit is open: straight to the outbox, not attempted."""
        due = self.pool.circuit(row.backend).open_until
        records.append(Pending(row.tracking_id, None, due, False))
        row.status, row.next_attempt_at = "pending", due
        outcomes[row.tracking_id] = OutcomeData(OutcomeKind.QUEUED, row)
        self.next_outbox_check = min(self.next_outbox_check, due)

    def _failed(
        self,
        rows: list[TaskRow],
        exc: Exception,
        records: list[Record],
        outcomes: dict[str, OutcomeData],
    ) -> None:
        """A first attempt failed (``delivery.classify``): refused for good, the claim is
        released and the client told (422); otherwise the task goes to the outbox (202)."""
        info = ErrorInfo.of(exc)
        now = time.time()
        failure = classify(exc, 0, now)
        if failure.verdict is Verdict.PERMANENT:
            for row in rows:
                records.append(Release(row.tracking_id))
                outcomes[row.tracking_id] = OutcomeData(OutcomeKind.REJECTED, row, error=info)
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
            records.append(Pending(row.tracking_id, error, due, True))
            row.status, row.last_error, row.attempts, row.next_attempt_at = "pending", error, 1, due
            outcomes[row.tracking_id] = OutcomeData(OutcomeKind.QUEUED, row, error=info)
        self.next_outbox_check = min(self.next_outbox_check, due)

    def reread(self, row: TaskRow) -> OutcomeData:
        """A repeat of a delivered task: the existing issue as it is now (the creation-time
        snapshot if the backend cannot be read)."""
        issue = row.snapshot
        if row.issue_number is not None:
            try:
                issue = self.pool.get(row.backend).get_issue_by_number(row.issue_number).to_dict()
            except Exception as exc:
                log.debug("reading issue #%s failed: %s", row.issue_number, describe(exc))
        return OutcomeData(OutcomeKind.DUPLICATE, row, issue=issue)
