"""The event log as the front ends read it (``issue events``, ``issue watch``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issue_core.core.events import Event
    from issue_core.core.interfaces import IssueBackend


def list_events(
    backend: IssueBackend, number: int | None = None, *, since: str | None = None, limit: int = 500
) -> list[Event]:
    """Events of issue ``number`` (None: every issue) after ``since``, oldest first."""
    return list(backend.list_events(number, since=since, limit=limit))
