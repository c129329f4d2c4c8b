"""``issue events`` and ``issue watch`` on a forge: reading its history as the event log.

A mixin of a forge's backend, which fills in two wire hooks:

- ``_event_items(number, since)``: the ``forge.events.ForgeItem`` of issue ``number`` (None:
  of every issue) at or after the forge time ``since`` (None: all of them), in any order and
  possibly with older ones (they are dropped here);
- ``_newest_activity()``: the forge's time of the latest change in the repository (an issue's
  ``updated_at``), or None for a repository without issues.

Everything else is here: the cursor (``forge.events.EventPosition``: the forge's times and
keys, never this machine's clock), the filters of ``issue watch`` (the event's own fields, then
the issue's labels and assignees as they are now), and the wait between looks.

**Waiting** is polling: every ``interval`` seconds (``--interval``, else the backend's
``watch_interval`` setting, ``POLL_INTERVAL`` by default) the backend reads the history at or
after the cursor's floor and says whether any item is new. The URLs of an idle look do not
change (the floor moves only when something is delivered), so the HTTP cache turns them into
conditional requests: where the forge sends ETags (GitHub), an idle look is a few ``304 Not
Modified`` answers, which GitHub does not count against the rate limit. Rate-limited answers
are waited out by the HTTP client (``_http.ratelimit``), never retried in a spin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from issue_core.backends.forge.events import (
    OVERLAP,
    EventPosition,
    ForgeItem,
    new_events,
    scope_of,
)
from issue_core.core.errors import Unsupported

if TYPE_CHECKING:
    from issue_core.core.events import Event, EventFilter
    from issue_core.core.models import Issue

# Seconds between two looks of a waiting watcher when nothing else is said (``--interval``).
POLL_INTERVAL = 10.0


class ForgeEvents:
    #: Seconds between two looks of ``wait_for_events``: the ``watch_interval`` setting.
    watch_interval: float = POLL_INTERVAL

    def _read_event_settings(self, config: Mapping[str, Any]) -> None:
        """``watch_interval`` from the config table (seconds, above 0; ``--interval`` wins)."""
        from issue_core.backends.forge.settings import number_setting
        from issue_core.core.errors import ConfigError

        kind = self.type_name
        interval = number_setting(config, "watch_interval", POLL_INTERVAL, kind=kind)
        if interval <= 0:
            raise ConfigError(f"{kind} setting 'watch_interval' must be above 0 seconds")
        self.watch_interval = interval

    # -- wire hooks (the forge's backend.py) ---------------------------------------------------

    def _event_items(self, number: int | None, since: datetime | None) -> Iterable[ForgeItem]:
        raise Unsupported(f"the {self.type_name} backend does not read events yet")

    def _newest_activity(self) -> datetime | None:
        raise Unsupported(f"the {self.type_name} backend does not read events yet")

    # -- from ForgeBackend ---------------------------------------------------------------------

    type_name: ClassVar[str]
    _sleep: Any
    http: Any

    if TYPE_CHECKING:

        @property
        def _where(self) -> str:
            raise NotImplementedError

        def get_issue_by_number(self, number: int, *, with_comments: bool = False) -> Issue:
            raise NotImplementedError

        def _raw_issues_since(self, since: datetime | None) -> Iterator[Mapping[str, Any]]:
            raise NotImplementedError

    def _server_now(self, ask: Callable[[], object]) -> datetime | None:
        """For ``_newest_activity``: the server's time now, the ``Date`` of its answer to
        ``ask`` (at or after every change it shows); without a ``Date``, the latest
        ``updated_at`` of any issue."""
        from issue_core.backends.forge.fields import timestamp

        with self.http.server_dates() as dates:
            ask()
        if dates:
            newest: datetime = dates[-1]
            return newest
        stamps = (timestamp(raw.get("updated_at")) for raw in self._raw_issues_since(None))
        return max((at for at in stamps if at is not None), default=None)

    # -- the event log ---------------------------------------------------------------------------

    def _event_scope(self) -> str:
        return scope_of(self.type_name, f"{self.http.base_url}/{self._where}")

    def _position(self, since: str | None) -> EventPosition:
        from issue_core.core.events import parse_since

        cursor, instant = parse_since(since)
        scope = self._event_scope()
        if instant is not None:
            return EventPosition.at_time(scope, instant)
        return EventPosition.parse(cursor, scope=scope, kind=self.type_name)

    def list_events(
        self,
        number: int | None = None,
        *,
        since: str | None = None,
        limit: int = 500,
        until: str | None = None,
        wanted: EventFilter | None = None,
    ) -> list[Event]:
        position = self._position(since)
        head = self._position(until) if until else None
        numbers = [number] if number is not None else list(wanted.numbers if wanted else ())
        items = self._items_of(numbers, position.floor)
        # Every new item gets its cursor before the filters drop any, so a cursor always
        # continues after its own event; the limit counts what is returned.
        found = new_events(items, position, limit=len(items), until=head)
        if wanted is not None:
            found = self._wanted(found, wanted)
        return found[: max(0, limit)]

    def _items_of(self, numbers: list[int], since: datetime | None) -> list[ForgeItem]:
        if not numbers:
            return list(self._event_items(None, since))
        return [item for n in numbers for item in self._event_items(n, since)]

    def _wanted(self, found: list[Event], wanted: EventFilter) -> list[Event]:
        kept = [event for event in found if wanted.matches(event)]
        if not wanted.about_issues:
            return kept
        matching: dict[int, bool] = {}
        for number in dict.fromkeys(event.issue for event in kept):
            matching[number] = self._issue_matches(number, wanted)
        return [event for event in kept if matching[event.issue]]

    def _issue_matches(self, number: int, wanted: EventFilter) -> bool:
        """The issue as it is now carries every label and one of the assignees ``wanted``."""
        from issue_core.core.errors import NotFound

        try:
            issue = self.get_issue_by_number(number)
        except NotFound:
            return False  # deleted since: it matches no label or assignee
        labels = {label.lower() for label in issue.labels}
        if any(label.lower() not in labels for label in wanted.labels):
            return False
        return not wanted.assignees or any(a in issue.assignees for a in wanted.assignees)

    def event_cursor(self) -> str:
        """After every event visible now: the history since ``OVERLAP`` before the latest
        change, all of it marked as delivered (the forge's times, never this machine's)."""
        scope = self._event_scope()
        newest = self._newest_activity()
        if newest is None:
            return EventPosition(scope).format()
        floor = newest - OVERLAP
        items = self._event_items(None, floor)
        return EventPosition(scope, floor).covering(items).format()

    def wait_for_events(
        self, after: str, timeout_s: float, *, interval: float | None = None
    ) -> bool:
        position = self._position(after)
        every = interval if interval is not None else self.watch_interval
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            if any(position.is_new(item) for item in self._event_items(None, position.floor)):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._sleep(min(every, left))


def items_since(items: Iterable[ForgeItem], since: datetime | None) -> Iterator[ForgeItem]:
    """The items at or after ``since`` (a forge's own filter may be coarser)."""
    return (item for item in items if since is None or item.at >= since)
