"""Ingestion's one failure policy (``classify``, ``service/failures.py``) and its use of the one
backoff curve (``core/backoff.py``), shared by a task's first attempt (``writer.BackendStage``)
and its outbox attempts."""

from __future__ import annotations

import random

import pytest

from issue_core.core.backoff import backoff, retry_after
from issue_core.core.errors import (
    BackendUnavailable,
    Conflict,
    NotFound,
    RateLimited,
    Unsupported,
    UsageError,
)
from issue_core.server.delivery import Circuit
from issue_core.service.failures import (
    MAX_UNEXPECTED_ATTEMPTS,
    RETRY_CAP_SECONDS,
    Verdict,
    classify,
    retry_delay,
)

NOW = 1_000_000.0


@pytest.mark.parametrize("error", [UsageError("x"), NotFound("x"), Conflict("x"), Unsupported("x")])
def test_a_payload_the_backend_refuses_is_permanent(error: Exception) -> None:
    failure = classify(error, 0, NOW)
    assert failure.verdict is Verdict.PERMANENT
    assert failure.due is None and not failure.unavailable and not failure.unexpected


def test_an_outage_is_retried_and_trips_the_circuit() -> None:
    failure = classify(BackendUnavailable("down"), 3, NOW)
    assert failure.verdict is Verdict.RETRY
    assert failure.unavailable and not failure.unexpected
    assert failure.due is not None
    assert NOW + 0.8 * 8 <= failure.due <= NOW + 1.2 * 8  # 2**3 seconds, jittered


def test_an_outage_is_never_parked_however_often() -> None:
    failure = classify(BackendUnavailable("down"), MAX_UNEXPECTED_ATTEMPTS * 3, NOW)
    assert failure.verdict is Verdict.RETRY
    assert failure.due is not None and failure.due <= NOW + RETRY_CAP_SECONDS * 1.2


def test_a_bug_is_retried_then_parked() -> None:
    first = classify(ValueError("bug"), 0, NOW)
    assert first.verdict is Verdict.RETRY and first.unexpected and not first.unavailable
    assert classify(ValueError("bug"), MAX_UNEXPECTED_ATTEMPTS - 2, NOW).verdict is Verdict.RETRY
    last = classify(ValueError("bug"), MAX_UNEXPECTED_ATTEMPTS - 1, NOW)
    assert last.verdict is Verdict.PARK and last.unexpected and last.due is None


def test_a_rate_limits_retry_after_wins_when_longer() -> None:
    limited = RateLimited("slow down", retry_after=120)
    assert retry_after(limited) == 120.0
    assert retry_after(RateLimited("no hint")) is None
    assert retry_after(ValueError("x")) is None
    failure = classify(limited, 0, NOW)
    assert failure.verdict is Verdict.RETRY and failure.unavailable
    assert failure.due == NOW + 120.0
    # A shorter hint than the curve does not shorten the wait.
    assert classify(RateLimited("x", retry_after=0.01), 4, NOW).due >= NOW + 0.8 * 16  # type: ignore[operator]


def test_backoff_is_capped_exponential_and_jitter_stays_in_its_spread() -> None:
    assert [backoff(step, base=0.5, cap=30.0) for step in range(8)] == [
        0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0,
    ]  # fmt: skip
    assert backoff(-3, base=1.0, cap=10.0) == 1.0
    random.seed(7)
    delays = [retry_delay(2) for _ in range(200)]
    assert all(3.2 <= delay <= 4.8 for delay in delays)
    assert len(set(delays)) > 1


def test_the_circuit_opens_on_the_same_curve() -> None:
    circuit = Circuit()
    opened = [circuit.trip(BackendUnavailable("down"), NOW) - NOW for _ in range(8)]
    assert opened == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert circuit.is_open(NOW + 29.0) and not circuit.is_open(NOW + 30.0)
    circuit.reset()
    assert circuit.trip(RateLimited("x", retry_after=90), NOW) == NOW + 90.0
