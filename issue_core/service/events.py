"""The event log as the front ends read it (``issue events``, ``issue watch``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issue_core.core.events import Event, EventFilter
    from issue_core.core.interfaces import IssueBackend

# Events read per look: a watcher resuming far behind reads on in pages of this many.
WATCH_PAGE = 500


# "Every event": 0 (or None) means no limit, as on `issue list`; SQLite's largest integer, so a
# backend's `LIMIT ?` and a forge's slice both read it as "all".
NO_LIMIT = 2**63 - 1


def list_events(
    backend: IssueBackend,
    number: int | None = None,
    *,
    since: str | None = None,
    limit: int | None = 500,
) -> list[Event]:
    """Events of issue ``number`` (None: every issue) after ``since``, oldest first; at most
    ``limit`` of them (0 or None: every one)."""
    return list(backend.list_events(number, since=since, limit=limit or NO_LIMIT))


def watch(
    backend: IssueBackend,
    wanted: EventFilter,
    *,
    since: str | None = None,
    once: bool = False,
    timeout_s: float | None = None,
    interval: float | None = None,
) -> Iterator[Event]:
    """The events ``wanted`` matches as they are written, oldest first, after ``since`` (a
    cursor or a time; None: from now on); with ``once``, only the first. Ends after
    ``timeout_s`` (None: never, until the caller stops).

    Each look reads up to the newest cursor taken just before it (``event_cursor``), so an
    event committed meanwhile is read by the next look, never skipped: the log's cursors grow
    in commit order. Between looks the backend sleeps until it may have more.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    position = since if since is not None and since.strip() else backend.event_cursor()
    while True:
        head = backend.event_cursor()
        found = backend.list_events(
            None, since=position, limit=WATCH_PAGE, until=head, wanted=wanted
        )
        for event in found:
            yield event
            if once:
                return
        # A full page may have more up to head; else everything up to head was looked at.
        position = found[-1].cursor if len(found) == WATCH_PAGE else head
        if len(found) == WATCH_PAGE:
            continue
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        backend.wait_for_events(position, 3600.0 if left is None else left, interval=interval)
