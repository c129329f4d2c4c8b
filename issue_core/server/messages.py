"""The ingestion pipeline's messages, typed: what the event loop and the pipeline say to each
other (over a queue, or pickled over the writer process's pipe). They carry the use case's
outcomes (``OutcomeData`` with an ``OutcomeKind``) and errors (``ErrorInfo``), defined with it in
``service/ingest.py`` and re-exported here.

Each message is a small class matched with ``isinstance`` (cheaper than a tagged tuple's string
comparison, and mypy sees each one's fields). They cross a process boundary, so they hold plain
data only: an error travels as ``ErrorInfo``, never as an exception (exceptions do not pickle
reliably).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# The outcome and the bookkeeping are the use case's vocabulary (service/ingest.py); the
# pipeline's messages carry them.
from issue_core.service.ingest import (
    Delivered,
    ErrorInfo,
    OutcomeData,
    OutcomeKind,
    Pending,
    Record,
    Release,
)

if TYPE_CHECKING:
    from issue_core.core.models import Issue
    from issue_core.service.tasks import TaskRow


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


__all__ = [
    "Answers",
    "Claimed",
    "Delivered",
    "Died",
    "ErrorInfo",
    "InMessage",
    "OutMessage",
    "OutcomeData",
    "OutcomeKind",
    "Pending",
    "Probe",
    "ProbeResult",
    "Ready",
    "Record",
    "Release",
    "StartFailed",
    "Stop",
    "Stopped",
    "Task",
    "Tasks",
]
