"""The backend side of the ingestion pipeline: where issues are actually created.

``BackendStage`` hands the tasks already claimed in the state db to the use case,
``service.ingest.create_batch`` (one bulk transaction where the backend declares
``BULK_CREATE``), and returns their outcomes plus the bookkeeping to record, as plain picklable
data. It also delivers due outbox
tasks and answers readiness probes. It runs on the pipeline's thread (see ``pipeline.py``), in
the server or in the writer child process (``transport.py``); backends are not thread-safe, and
that one thread owns every backend connection.
"""

from __future__ import annotations

import logging
import time

from issue_core.core.models import Issue
from issue_core.server.delivery import BackendPool, deliver_due
from issue_core.server.messages import (
    OutcomeData,
    OutcomeKind,
    Pending,
    Record,
)
from issue_core.server.outbox import LeaseHolder, StateStore
from issue_core.service.failures import describe
from issue_core.service.ingest import create_batch
from issue_core.service.tasks import TaskRow

log = logging.getLogger("issue_core.server")

OUTBOX_POLL_SECONDS = 2.0


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
        """Create the issues of claimed tasks (``service.ingest.create_batch``); appends what
        to record to ``records``, and wakes the outbox for the earliest task it queued."""
        start = len(records)
        outcomes = create_batch(self.pool, create, records)
        for record in records[start:]:
            if isinstance(record, Pending):
                self.next_outbox_check = min(self.next_outbox_check, record.due)
        return outcomes

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
