"""The one failure policy of ingestion and its one backoff curve.

``classify`` says what a failed attempt at creating a task's issue means: refused for good
(the payload cannot succeed), retry at a time (an outage trips the backend's circuit; a bug is
logged), or park it (a bug that keeps failing). A task's first attempt (``service.ingest``) and
its outbox attempts (``server.delivery``) both ask it and differ only where they must: refused
on its first attempt a task is answered 422 and its claim released; from the outbox, whose
client already had its 202, it is marked failed. ``retry_delay`` is when the outbox tries again:
``core/backoff.py``'s curve (the one the forge HTTP client's retries and the circuit's open
time use too) with the outbox's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from issue_core.core.backoff import backoff
from issue_core.core.errors import (
    BackendUnavailable,
    Conflict,
    IssueCoreError,
    NotFound,
    Unsupported,
    UsageError,
)

RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 300.0
# Unexpected errors (bugs, not outages) are retried a bounded number of times, then parked.
MAX_UNEXPECTED_ATTEMPTS = 10
# The task itself is unacceptable to the backend: retrying the same payload cannot succeed.
PERMANENT_ERRORS: tuple[type[IssueCoreError], ...] = (UsageError, NotFound, Conflict, Unsupported)


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT_ERRORS)


def describe(exc: BaseException) -> str:
    """One line for ``last_error``: typed errors as their message, bugs as their type only."""
    if isinstance(exc, IssueCoreError):
        return f"{exc.code}: {exc.one_line()}"
    return f"internal error: {type(exc).__name__}"


def retry_delay(attempts: int, exc: BaseException | None = None) -> float:
    """When an outbox task is tried again: exponential backoff with jitter."""
    return backoff(
        attempts, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS, spread=(0.8, 1.2), exc=exc
    )


class Verdict(StrEnum):
    """What to do with a task whose attempt failed."""

    PERMANENT = "permanent"  # the payload cannot succeed: release (first attempt) or fail
    RETRY = "retry"  # try again at ``Failure.due``
    PARK = "park"  # an unexpected error, too often: fail it, an operator looks


@dataclass(frozen=True)
class Failure:
    """``classify``'s answer. ``unavailable``: the backend is down (trip its circuit, drop the
    connection); ``unexpected``: not a typed error, i.e. a bug (logged with its traceback)."""

    verdict: Verdict
    unavailable: bool = False
    unexpected: bool = False
    due: float | None = None


def classify(exc: BaseException, attempts: int, now: float) -> Failure:
    """The one failure policy. ``attempts``: the task's attempts before this one (0 for a
    first attempt, which is therefore never parked)."""
    if is_permanent(exc):
        return Failure(Verdict.PERMANENT)
    unexpected = not isinstance(exc, IssueCoreError)
    if unexpected and attempts + 1 >= MAX_UNEXPECTED_ATTEMPTS:
        return Failure(Verdict.PARK, unexpected=True)
    return Failure(
        Verdict.RETRY,
        unavailable=isinstance(exc, BackendUnavailable),
        unexpected=unexpected,
        due=now + retry_delay(attempts, exc),
    )
