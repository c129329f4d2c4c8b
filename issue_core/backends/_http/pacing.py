"""Pacing of content-creating writes, so a burst never trips a forge's write limits.

GitHub documents secondary limits on content creation (no more than 80 content-generating
requests a minute and 500 an hour); going over them earns 403s and, repeated, a longer block.
An agent may create issues from many short-lived processes (one ``issue create`` each), so the
times of recent creating requests are kept in a small file in the user cache folder, per API and
token fingerprint (never the token or URL itself), and every process waits for a free slot
before sending one. The file is updated under an advisory lock where the platform has one; a
disk that cannot be written only loses the memory of other processes' writes.

A wait is shown on stderr when stderr is a terminal (a person is watching); elsewhere it is
only logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

logger = logging.getLogger("issue_core.http")

# (requests, seconds): GitHub's documented content-creation limits.
GITHUB_WRITE_WINDOWS: tuple[tuple[int, float], ...] = ((80, 60.0), (500, 3600.0))


def _path(key: str) -> Path:
    from issue_core.backends._http.cache import default_cache_dir

    name = hashlib.sha256(f"write-pacing:{key}".encode()).hexdigest()[:32]
    return default_cache_dir().parent / "write-pacing" / f"{name}.json"


def show_wait(seconds: float, why: str) -> None:
    """Tell a person at a terminal why nothing seems to happen (stderr only, tty only)."""
    stream = sys.stderr
    try:
        if stream is not None and stream.isatty():
            stream.write(f"issue-core: {why}: waiting {seconds:.0f}s\n")
            stream.flush()
    except (OSError, ValueError):  # a closed stderr must not fail the write
        pass


class WritePacer:
    """Waits before a creating request while any window is full (thread- and process-safe)."""

    def __init__(
        self,
        key: str,
        *,
        windows: tuple[tuple[int, float], ...] = GITHUB_WRITE_WINDOWS,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        announce: Callable[[float, str], None] = show_wait,
        max_wait: float | None = None,
    ) -> None:
        self.windows = tuple(sorted(windows, key=lambda w: w[1]))
        self._path = _path(key)
        self._sleep = sleep
        self._clock = clock
        self._announce = announce
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._memory: list[float] = []  # used when the file cannot be read or written
        self.waited = 0.0

    def before_write(self) -> None:
        """Take a slot for one creating request, waiting until one is free."""
        with self._lock:
            while True:
                with self._times() as times:
                    now = self._clock()
                    horizon = max(seconds for _, seconds in self.windows)
                    times[:] = [t for t in times if now - t < horizon]
                    wait = self._wait_for(times, now)
                    if wait <= 0:
                        times.append(now)
                        return
                if self._max_wait is not None and wait > self._max_wait:
                    from issue_core.core.errors import RateLimited

                    raise RateLimited(
                        f"too many writes: the forge's write limit needs a {wait:.0f}s pause",
                        hint="try again later",
                    )
                limit, seconds = self._full_window(times, now)
                why = f"pacing writes ({limit} per {_span(seconds)} at most)"
                logger.debug("%s: waiting %.1fs", why, wait)
                self._announce(wait, why)
                self.waited += wait
                self._sleep(wait)

    def _wait_for(self, times: list[float], now: float) -> float:
        wait = 0.0
        for limit, seconds in self.windows:
            recent = [t for t in times if now - t < seconds]
            if len(recent) >= limit:
                # The slot frees when the oldest request that fills the window leaves it.
                wait = max(wait, recent[-limit] + seconds - now)
        return wait

    def _full_window(self, times: list[float], now: float) -> tuple[int, float]:
        for limit, seconds in reversed(self.windows):
            if len([t for t in times if now - t < seconds]) >= limit:
                return limit, seconds
        return self.windows[0]

    @contextlib.contextmanager
    def _times(self) -> Iterator[list[float]]:
        """The recent write times, read and written back under a file lock."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield self._memory
            return
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            _lock_file(handle)
            try:
                data = json.loads(handle.read() or "[]")
                times = sorted(float(t) for t in data) if isinstance(data, list) else []
            except (ValueError, TypeError):
                times = list(self._memory)  # a damaged file: what this process remembers
            yield times
            self._memory = list(times)
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps([round(t, 3) for t in times]))


def _lock_file(handle: object) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one process at a time is not enforced
        return
    with contextlib.suppress(OSError):
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # type: ignore[attr-defined]


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return "hour" if seconds == 3600 else f"{seconds / 3600:g} hours"
    return "minute" if seconds == 60 else f"{seconds:g}s"
