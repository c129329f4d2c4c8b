"""Waiting for another process to write the local store (``issue watch``), without spinning.

A commit in WAL mode appends to ``issues.db-wal`` (a checkpoint writes ``issues.db``), so a
change of either file is the signal. Two ways to hear it, both stdlib only:

- Linux: inotify on the store's folder (through ``ctypes``), so the watcher sleeps in
  ``select`` until a write to one of the store's files, and then some;
- elsewhere (or when inotify cannot be had: no libc symbol, the watch limit reached): the
  files' ``os.stat`` (inode, size, mtime) every ``interval`` seconds.

Either way a wake is only a hint: the caller then asks the store whether the log grew (one
look at the events' primary key). A write is heard before its commit is visible to readers
(SQLite publishes it in the WAL index after the frames), so a wake that finds nothing is
looked at again on a short ladder of pauses (``SETTLE``) before sleeping again; and however
quiet the files, the caller looks at least every ``SAFETY`` seconds, so a missed notification
(a network file system) costs latency, never an event.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

SAFETY = 2.0
# After a wake: look again after each of these pauses (seconds) while the commit is not yet
# visible; 0.1 s in all, so a wake that was no commit costs a few cheap reads.
SETTLE = (0.0, 0.002, 0.005, 0.01, 0.02, 0.03, 0.035)

_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_EVENT_HEADER = 16  # struct inotify_event: int wd; uint32 mask, cookie, len; then the name


class StoreWaiter:
    """Blocks until one of the store's files may have changed (or a timeout)."""

    def __init__(self, path: str, *, interval: float) -> None:
        self.path = os.path.abspath(path)
        self.interval = interval
        base = os.path.basename(self.path).encode()
        self._names = {base, base + b"-wal", base + b"-journal"}
        self._files = [self.path + suffix for suffix in ("", "-wal")]
        self._fd = _inotify(os.path.dirname(self.path))
        self._stamp = self._stat()

    @property
    def uses_inotify(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def wait(self, timeout: float) -> bool:
        """Sleep until a file of the store changed (True) or ``min(timeout, SAFETY)`` passed
        (False). Changes made since the previous call count: none is missed between calls."""
        timeout = max(0.0, min(timeout, SAFETY))
        if self._fd is not None:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            return bool(ready) and self._drain()
        deadline = time.monotonic() + timeout
        while True:
            stamp = self._stat()
            if stamp != self._stamp:
                self._stamp = stamp
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.interval, left))

    def _drain(self) -> bool:
        """Read every queued notification; whether one was about the store's files."""
        assert self._fd is not None
        relevant = False
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return relevant
            offset = 0
            while offset + _EVENT_HEADER <= len(chunk):
                length = int.from_bytes(chunk[offset + 12 : offset + 16], "little")
                name = chunk[offset + _EVENT_HEADER : offset + _EVENT_HEADER + length]
                relevant = relevant or name.rstrip(b"\0") in self._names
                offset += _EVENT_HEADER + length

    def _stat(self) -> tuple[tuple[int, int, int] | None, ...]:
        stamps: list[tuple[int, int, int] | None] = []
        for name in self._files:
            try:
                info = os.stat(name)
            except OSError:
                stamps.append(None)
            else:
                stamps.append((info.st_ino, info.st_size, info.st_mtime_ns))
        return tuple(stamps)


def settle(visible: Callable[[], bool]) -> bool:
    """After a wake: whether ``visible()`` turned true on the ``SETTLE`` ladder."""
    for pause in SETTLE:
        if pause:
            time.sleep(pause)
        if visible():
            return True
    return False


def _inotify(folder: str) -> int | None:
    """A non-blocking inotify descriptor watching ``folder`` for writes, or None."""
    if not folder or not os.path.isdir(folder) or os.uname().sysname != "Linux":
        return None
    import ctypes  # only a watcher on Linux pays for it

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    fd = init(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:
        return None
    mask = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE
    if add(fd, os.fsencode(folder), mask) < 0:
        os.close(fd)
        return None
    return int(fd)
