"""The ingestion pipeline's messages, typed: what the event loop and the pipeline say to each
other (over a queue, or pickled over the writer process's pipe), the outcome of a task, and the
bookkeeping a cycle records in the state db.

Each message is a small class matched with ``isinstance`` (cheaper than a tagged tuple's string
comparison, and mypy sees each one's fields). They cross a process boundary, so they hold plain
data only: an error travels as ``ErrorInfo``, never as an exception (exceptions do not pickle
reliably). ``OutcomeKind`` names what happened to a task once; ``app.outcome_response`` maps it
to the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from issue_core.core.errors import IssueCoreError

if TYPE_CHECKING:
    from issue_core.core.models import Issue
    from issue_core.server.outbox import TaskRow


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
    row: TaskRow
    issue: dict[str, Any] | None = None
    error: ErrorInfo | None = None


# A task handed to the pipeline: (task id, its row, its Issue or None to parse row.issue_json).
Task = tuple[int, "TaskRow", "Issue | None"]


# --------------------------------------------------------------------------- in: loop → pipeline


@dataclass
class Tasks:
    """Tasks submitted during one turn of the event loop."""

    tasks: list[Task]


@dataclass
class Probe:
    """Does ``backend`` answer? (readiness)"""

    probe_id: int
    backend: str


@dataclass
class Stop:
    """Finish everything sent before, then stop."""


# --------------------------------------------------------------------------- out: pipeline → loop


@dataclass
class Claimed:
    """These tasks are durable in the state db (a dead writer's are then queued, not lost)."""

    task_ids: list[int]


@dataclass
class Answers:
    answers: list[tuple[int, OutcomeData]]


@dataclass
class ProbeResult:
    probe_id: int
    ok: bool
    detail: str


@dataclass
class Died:
    """The writer process's pipe closed while it was not stopping."""


# The writer process's start and end (``transport.ProcessTransport``).
@dataclass
class Ready:
    pass


@dataclass
class StartFailed:
    error: ErrorInfo


@dataclass
class Stopped:
    pass


InMessage = Tasks | Probe | Stop
OutMessage = Claimed | Answers | ProbeResult | Died


# --------------------------------------------------------------------------- bookkeeping


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
