"""An ingested task as plain data: what a front end validated (``TaskInput``), the key it is
claimed under, and its row in the server's state db (``TaskRow``).

No validation library and no web framework here: ``POST /issues/`` validates a body with its
pydantic model (``server/schema.py``) and hands the use case a ``TaskInput``; a NATS consumer
would do the same with its messages. ``issue outbox`` reads ``TaskRow``s, so only the standard
library and ``core`` are imported.

The default idempotency key of a task that names its upstream event is
``source:["<system>","<event_id>"]``; of activity-core's task (no key of its own, four ids that
name the emission) ``activity:[...]``: a JSON array keeps the parts apart whatever they contain
(``"a:b"`` + ``"c"`` is not ``"a"`` + ``"b:c"``), and null stays distinct from ``""``. Earlier
servers made the source key ``"<system>:<event_id>"``, which made ``"ci:prod"`` + ``"42"`` and
``"ci"`` + ``"prod:42"`` one key. Tasks stored under that older form must still be found when
their sender retries after the upgrade. The older string alone cannot say which parts made it,
so it is never rewritten; instead, a task keyed by its source is also looked up under the older
form, and a task stored there is its original only if it recorded the same ``system`` and
``event_id`` (every task records its ``source``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from issue_core.core.models import format_ts

MARKER_PREFIX = "issue-core-ingest:"
SOURCE_PREFIX = "source:"
ACTIVITY_FIELDS = ("source_type", "source_id", "triggering_event_id", "activity_definition_id")


@dataclass(slots=True)
class TaskInput:
    """A validated task, to become one issue (the TaskSpec's fields; SCOPE.md has their
    meaning). ``priority`` is already normalised (trimmed, lower-case); ``source`` is the
    upstream record as it is stored (``sync_metadata.source``: JSON values, ``emitted_at`` in
    the store's timestamp format), empty when the task names none; ``extra`` holds the fields
    the contract does not know, kept under ``sync_metadata.extra_fields``."""

    title: str
    description: str | None = None
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    priority: str | None = None
    milestone: str | None = None
    state: str = "open"
    metadata: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    backend: str | None = None
    target_repo: str | None = None
    due_in_days: int | None = None
    source_type: str | None = None
    source_id: str | None = None
    triggering_event_id: str | None = None
    activity_definition_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source_event(self) -> tuple[str, str] | None:
        """``(source.system, source.event_id)`` when the task names both."""
        system, event_id = self.source.get("system"), self.source.get("event_id")
        return (system, event_id) if system and event_id else None

    def activity_ids(self) -> list[str | None]:
        return [
            self.source_type,
            self.source_id,
            self.triggering_event_id,
            self.activity_definition_id,
        ]


# --------------------------------------------------------------------------- the key


def _parts(prefix: str, parts: list[Any]) -> str:
    return prefix + json.dumps(parts, ensure_ascii=False, separators=(",", ":"))


def source_key(system: str, event_id: str) -> str:
    return _parts(SOURCE_PREFIX, [system, event_id])


def legacy_source_key(system: str, event_id: str) -> str:
    """The ambiguous form stored before; only ever looked up, never claimed anew."""
    return f"{system}:{event_id}"


def idempotency_key_for(task: TaskInput, header_key: str | None) -> str | None:
    """The key ``task`` is claimed under: its own, else its source event's, else activity-core's
    four ids', else the request's ``Idempotency-Key`` header; None: every request is new."""
    if task.idempotency_key:
        return task.idempotency_key
    event = task.source_event
    if event is not None:
        return source_key(*event)
    activity = task.activity_ids()
    if any(part is not None for part in activity):
        # activity-core retries through its workflow engine without a key of its own.
        return _parts("activity:", activity)
    return header_key or None


class KeyLookup(Protocol):
    def by_key(self, key: str) -> TaskRow | None: ...


def stored_original_key(store: KeyLookup, task: TaskInput) -> str | None:
    """The older-form key under which this task's original is stored, if it is (only a task
    keyed by its source event can have one)."""
    event = task.source_event
    if task.idempotency_key or event is None:
        return None
    legacy = legacy_source_key(*event)
    row = store.by_key(legacy)
    if row is None:
        return None
    recorded = row.issue_data.get("sync_metadata", {}).get("source") or {}
    if (recorded.get("system"), recorded.get("event_id")) == event:
        return legacy
    return None


def marker_for(tracking_id: str) -> str:
    """What the created issue carries (``sync_metadata.marker``) so that a retry after an
    interrupted attempt finds it on the backend."""
    return f"{MARKER_PREFIX}{tracking_id}"


# --------------------------------------------------------------------------- the row


def public_status(status: str) -> str:
    """What clients see: every not-yet-delivered state is simply ``pending``."""
    return status if status in ("delivered", "failed") else "pending"


def issue_id_of(backend: str, number: int | None) -> str | None:
    """The reference an upstream keeps: ``<backend>#<number>``, stable across repeats."""
    return f"{backend}#{number}" if number is not None else None


@dataclass
class TaskRow:
    """A task's row in the state db (``server/outbox.py`` has the statuses and the table)."""

    tracking_id: str
    idempotency_key: str | None
    backend: str
    status: str
    marker: str
    issue_json: str
    request_id: str | None
    received_at: str
    attempts: int = 0
    maybe_written: bool = False
    next_attempt_at: float | None = None
    lease_until: float | None = None
    last_error: str | None = None
    issue_number: int | None = None
    issue_snapshot: str | None = None
    delivered_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    lease_owner: str | None = None

    @classmethod
    def from_sql(cls, row: tuple[Any, ...]) -> TaskRow:
        values = list(row)
        values[9] = bool(values[9])
        return cls(*values)

    @property
    def issue_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.issue_json)
        return data

    @property
    def snapshot(self) -> dict[str, Any] | None:
        return json.loads(self.issue_snapshot) if self.issue_snapshot else None

    def to_public(self) -> dict[str, Any]:
        """The tracking record shown by ``GET /issues/ingest/{id}`` and ``issue outbox list``."""
        return {
            "tracking_id": self.tracking_id,
            "status": public_status(self.status),
            "phase": self.status,
            "backend": self.backend,
            "idempotency_key": self.idempotency_key,
            "issue_id": issue_id_of(self.backend, self.issue_number),
            "issue_number": self.issue_number,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": _iso(self.next_attempt_at) if self.status == "pending" else None,
            "received_at": self.received_at,
            "delivered_at": _iso(self.delivered_at),
            "request_id": self.request_id,
            "title": self.issue_data.get("title"),
        }


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return format_ts(datetime.fromtimestamp(round(epoch, 3), UTC))
