"""Outbox use cases: list the ingested tasks by status, and retry them now.

A retry takes the server lock only to heal (tasks a dead process left mid-delivery go back to
the outbox; ``claimed`` ones only when no server runs), holds a lease token for the whole run,
requeues the tasks it is about, delivers until a pass finds nothing new, and reports every task
it was about as it is afterwards (the real counts, not what the run hoped for).

The state db, its locks and one delivery pass belong to the server's side; they are handed in
(as the ``Store``, ``Lock``/``Lease`` factories and ``deliver_due``), so the service never
imports a front end and an operator API could call the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

# ``issue outbox list --status``: which stored statuses each choice means.
STATUS_GROUPS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "pending": ("claimed", "pending", "delivering"),
    "delivered": ("delivered",),
    "failed": ("failed",),
}
# A pass larger than this is split; each pass is one ``deliver_due`` call.
PASS_SIZE = 100


class Row(Protocol):
    tracking_id: str
    status: str


class Store(Protocol):
    path: Path

    def get(self, tracking_id: str) -> Any: ...
    def list(self, *, statuses: Sequence[str] | None, limit: int) -> Sequence[Any]: ...
    def heal(self, *, server_gone: bool, me: str | None = None) -> int: ...
    def requeue(self, tracking_id: str | None = None) -> int: ...
    def undelivered_ids(self) -> Sequence[str]: ...


class Lock(Protocol):
    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class Lease(Protocol):
    token: str

    def release(self) -> None: ...


# deliver_due(owner=..., limit=..., only=...) -> the results of one pass (each has ``.row``).
DeliverDue = Callable[..., Sequence[Any]]


def list_tasks(store: Store, status: str = "all", limit: int = 50) -> list[Any]:
    """Ingested tasks in ``status`` (a ``STATUS_GROUPS`` key), newest first."""
    return list(store.list(statuses=STATUS_GROUPS[status], limit=limit))


class Retried:
    """What a retry was about, as it is now; ``already`` is the named task when it had been
    delivered before (nothing was attempted)."""

    def __init__(self, rows: list[Any], already: Any = None) -> None:
        self.rows = rows
        self.already = already

    def counts(self) -> dict[str, int]:
        """delivered / pending / failed, and ``elsewhere``: claimed or being delivered, i.e.
        in the hands of a live server or another retry."""
        counts = {"delivered": 0, "pending": 0, "failed": 0, "elsewhere": 0}
        for row in self.rows:
            if row.status in ("delivered", "pending", "failed"):
                counts[row.status] += 1
            else:
                counts["elsewhere"] += 1
        return counts


def deliver_until_done(deliver_due: DeliverDue, owner: str, tracking_id: str | None) -> None:
    """Every due task once (or the one named): a backend whose attempt fails is skipped for
    the rest of the run (its circuit opens), so passes end once one brings nothing new."""
    if tracking_id is not None:
        deliver_due(owner=owner, only=tracking_id)
        return
    seen: set[str] = set()
    while True:
        batch = deliver_due(owner=owner, limit=PASS_SIZE)
        fresh = [result for result in batch if result.row.tracking_id not in seen]
        seen.update(result.row.tracking_id for result in batch)
        if not fresh:
            return


def retry(
    store: Store,
    tracking_id: str | None,
    *,
    lock: Callable[[Path], Lock],
    lease: Callable[[Path], Lease],
    deliver_due: DeliverDue,
) -> Retried:
    """Deliver pending or failed tasks now, ignoring their backoff (all, or ``tracking_id``)."""
    done = store.get(tracking_id) if tracking_id is not None else None
    if done is not None and done.status == "delivered":
        return Retried([done], already=done)
    # Held until the run ends: while it runs, no other process takes our leases, and if it is
    # killed, the next worker sees at once that they are free.
    holder = lease(store.path.parent)
    try:
        server = lock(store.path.parent)
        server_gone = server.acquire()
        try:
            # Tasks a dead process left mid-delivery go back to the outbox (looked up by
            # marker before any create); `claimed` ones only when no server runs.
            store.heal(server_gone=server_gone, me=holder.token)
        finally:
            server.release()
        scope = [tracking_id] if tracking_id is not None else store.undelivered_ids()
        store.requeue(tracking_id)
        deliver_until_done(deliver_due, holder.token, tracking_id)
    finally:
        holder.release()
    return Retried([row for row in (store.get(one) for one in scope) if row is not None])
