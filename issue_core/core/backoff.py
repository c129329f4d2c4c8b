"""The one backoff curve: how long to wait before trying something again.

Capped exponential (``base * 2**step`` up to ``cap``), times a random factor drawn from
``spread`` so that many clients failing together do not retry together, and never shorter than
the wait a rate limit asked for. Each caller keeps only its own budget:

- the forge HTTP client's retries of one request (``backends/_http/retry.py``): seconds, base
  0.5 s, cap 8 s, "equal jitter" (half fixed, half random);
- the ingestion outbox's retries of a task (``service/failures.py``): base 1 s, cap 300 s, ±20 %;
- a backend's circuit after an outage (``server/delivery.py``): base 0.5 s, cap 30 s, no jitter.

Pure and dependency-free (``core/``), so the HTTP layer, which may not import the service, and the
service share it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from issue_core.core.errors import RateLimited

#: Half the delay fixed, half random: a retry never comes much sooner than the curve says.
EQUAL_JITTER = (0.5, 1.0)


def backoff(
    step: int,
    *,
    base: float,
    cap: float,
    spread: tuple[float, float] | None = None,
    exc: BaseException | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait before retry ``step`` (0 for the first retry): ``min(base * 2**step, cap)``,
    times a factor in ``spread`` (``rand`` returns [0, 1); tests inject it); a rate limit's
    ``retry_after`` on ``exc`` wins when it is longer."""
    delay = min(base * (2 ** max(step, 0)), cap)
    if spread is not None:
        low, high = spread
        delay *= low + (high - low) * rand()
    hinted = retry_after(exc)
    if hinted is not None:
        delay = max(delay, hinted)
    return float(delay)


def retry_after(exc: BaseException | None) -> float | None:
    """The wait a rate limit asked for, if ``exc`` is one that said."""
    if isinstance(exc, RateLimited):
        hinted = exc.details.get("retry_after")
        if isinstance(hinted, int | float):
            return float(hinted)
    return None
