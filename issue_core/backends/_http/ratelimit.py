"""Rate limits: slow down before the budget runs out, wait on 429, give up with a date.

Servers announce their budget in headers: GitHub and Gitea ``X-RateLimit-Remaining`` /
``X-RateLimit-Reset`` (epoch seconds), GitLab ``RateLimit-Remaining`` / ``RateLimit-Reset``, and
``Retry-After`` (seconds or an HTTP date) on 429 and on GitHub's 403 secondary limits.
A wait longer than ``max_wait`` is not done: ``RateLimited`` (exit 6) says when to retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from issue_core.core.errors import RateLimited

# A reset value above this is an epoch timestamp; below, a number of seconds from now.
_EPOCH_THRESHOLD = 1_000_000_000
# When a 429 says nothing about when to come back.
DEFAULT_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class RateLimitPolicy:
    max_wait: float = 60.0  # the longest single wait before giving up with RateLimited
    reserve: int = 2  # wait for the reset once at most this many requests are left
    max_total_wait: float = 120.0  # across all waits of one client
    # How long to wait when a limited answer says nothing about when to come back (GitHub's
    # secondary limits: "wait at least one minute").
    unannounced_wait: float = DEFAULT_RETRY_AFTER


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def parse_reset(value: str | None, now: float) -> float | None:
    """Epoch time at which the budget refills."""
    number = _int(value)
    if number is None:
        return None
    return float(number) if number > _EPOCH_THRESHOLD else now + number


def remaining_of(headers: Mapping[str, str]) -> int | None:
    return _int(_header(headers, "x-ratelimit-remaining", "ratelimit-remaining"))


def reset_of(headers: Mapping[str, str], now: float) -> float | None:
    return parse_reset(_header(headers, "x-ratelimit-reset", "ratelimit-reset"), now)


def is_rate_limited(status: int, headers: Mapping[str, str], body: str) -> bool:
    """429 always; 403 only when the headers or the message say it is a rate limit."""
    if status == 429:
        return True
    if status != 403:
        return False
    if remaining_of(headers) == 0 or _header(headers, "retry-after") is not None:
        return True
    return "rate limit" in body[:2000].lower()


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """Tracks the budget a server announced and waits or raises accordingly (thread-safe)."""

    def __init__(
        self,
        policy: RateLimitPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        host: str = "the server",
    ) -> None:
        self.policy = policy or RateLimitPolicy()
        self._sleep = sleep
        self._clock = clock
        self._host = host
        self._lock = threading.Lock()
        self.remaining: int | None = None
        self.limit: int | None = None
        self.reset_at: float | None = None
        self.waits = 0
        self.waited = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        now = self._clock()
        remaining = remaining_of(headers)
        if remaining is None:
            return
        with self._lock:
            self.remaining = remaining
            self.limit = _int(_header(headers, "x-ratelimit-limit", "ratelimit-limit"))
            self.reset_at = reset_of(headers, now)

    def before_request(self) -> None:
        """Wait for the reset when the announced budget is (nearly) spent."""
        with self._lock:
            remaining, reset_at = self.remaining, self.reset_at
        if remaining is None or remaining > self.policy.reserve or reset_at is None:
            return
        wait = reset_at - self._clock()
        if wait <= 0:
            return
        self._wait(
            wait + 1.0,  # servers reset on whole seconds; a second of slack avoids a 429
            f"rate limit of {self._host} nearly spent ({remaining} requests left)",
            reset_at,
        )
        with self._lock:
            self.remaining = None  # refilled; the next response tells the new figure

    def wait_after_limited(self, headers: Mapping[str, str]) -> None:
        """After a 429/403-rate-limit response: wait as told, or raise ``RateLimited``."""
        now = self._clock()
        wait = parse_retry_after(_header(headers, "retry-after"), now)
        if wait is None:
            reset_at = reset_of(headers, now)
            spent = remaining_of(headers) == 0
            wait = (
                (reset_at - now + 1.0)
                if reset_at is not None and spent
                else self.policy.unannounced_wait
            )
        self._wait(max(wait, 0.0), f"rate limited by {self._host}", now + wait)

    def _wait(self, seconds: float, why: str, retry_at: float) -> None:
        policy = self.policy
        if seconds > policy.max_wait or self.waited + seconds > policy.max_total_wait:
            in_seconds = max(0, round(retry_at - self._clock()))
            raise RateLimited(
                f"{why}; retry after {_when(retry_at)} (in {in_seconds}s)",
                hint=f"waiting longer than {policy.max_wait:g}s is not done automatically",
                retry_at=_when(retry_at),
            )
        with self._lock:
            self.waits += 1
            self.waited += seconds
        self._sleep(seconds)
