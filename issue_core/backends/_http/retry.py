"""When to send a request again, and how long to wait first.

Only idempotent requests are retried blindly: sending them twice has the effect of sending them
once. A create (POST) is retried only when it certainly never left this machine (the connection
was never made); otherwise the caller must look for it first (``HttpClient.create_once``).
The wait is the package's one backoff curve (``core/backoff.py``) with a per-request budget.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from issue_core.core.backoff import EQUAL_JITTER, backoff

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try: 3 means at most two retries."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Returns a number in [0, 1); injectable so tests get deterministic delays.
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, retry_number: int) -> float:
        """The package's one backoff curve (``core/backoff.py``) with "equal jitter" (half
        fixed, half random) and this budget: ``retry_number`` 1 waits up to ``base_delay``.

        Jitter spreads the retries of many agents hitting the same failing server.
        """
        return backoff(
            retry_number - 1,
            base=self.base_delay,
            cap=self.max_delay,
            spread=EQUAL_JITTER,
            rand=self.rand,
        )


def is_idempotent(method: str, *, flagged_safe: bool | None = None) -> bool:
    """GET/HEAD/PUT/DELETE are; PATCH only when the caller says its body sets absolute values."""
    if flagged_safe is not None:
        return flagged_safe
    return method.upper() in IDEMPOTENT_METHODS
