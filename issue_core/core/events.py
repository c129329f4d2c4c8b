"""The event log's record (``issue events``, ``issue watch``): one change of one issue.

The JSON shape is documented in AGENT_INTEGRATION.md ("Events") and stable: ``cursor`` (an
opaque string; pass it back as ``--since`` to continue after this event), ``issue`` (the
number), ``issue_id`` (the stable id), ``kind``, ``actor``, ``at`` (UTC) and ``data`` (per
kind: ``changes`` with ``before``/``after`` values for edits, the comment, the lease).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from issue_core.core.errors import ValidationError

# How a forge's event cursor begins (``backends.forge.events``): told apart from a time here.
FORGE_CURSOR_TAG = "fe1."

# Every kind the local store records.
KINDS = (
    "created",
    "edited",
    "state",
    "labeled",
    "assigned",
    "metadata",
    "commented",
    "comment_edited",
    "comment_deleted",
    "claimed",
    "heartbeat",
    "released",
    "lease_expired",
    "linked",
    "unlinked",
    "deleted",
)


class Event:
    __slots__ = ("actor", "at", "cursor", "data", "issue", "issue_id", "kind")

    def __init__(
        self,
        cursor: str,
        issue: int,
        kind: str,
        actor: str,
        at: str,
        data: dict[str, Any] | None = None,
        issue_id: str | None = None,
    ) -> None:
        self.cursor = cursor
        self.issue = issue
        self.issue_id = issue_id
        self.kind = kind
        self.actor = actor
        self.at = at
        self.data = data or {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "issue": self.issue,
            "issue_id": self.issue_id,
            "kind": self.kind,
            "actor": self.actor,
            "at": self.at,
            "data": self.data,
        }

    def __repr__(self) -> str:
        return f"Event({self.to_dict()!r})"


EVENT_FIELDS = tuple(Event("0", 0, "x", "x", "x").to_dict())


class EventFilter:
    """Which events a reader wants (``issue watch``'s filters): all of the given conditions.

    ``numbers``, ``kinds`` and ``actors`` are properties of the event; ``labels`` and
    ``assignees`` of its issue as it is when the event is read (every label, any assignee), so
    "what happens to issues labelled needs-review" includes the event that added the label.
    An empty condition matches everything.
    """

    __slots__ = ("actors", "assignees", "kinds", "labels", "numbers")

    def __init__(
        self,
        numbers: Iterable[int] = (),
        kinds: Iterable[str] = (),
        actors: Iterable[str] = (),
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
    ) -> None:
        self.numbers = tuple(dict.fromkeys(numbers))
        self.kinds = tuple(dict.fromkeys(kinds))
        self.actors = tuple(dict.fromkeys(actors))
        self.labels = tuple(dict.fromkeys(labels))
        self.assignees = tuple(dict.fromkeys(assignees))
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown:
            raise ValidationError(
                f"unknown event kind {unknown[0]!r}", hint=f"known kinds: {', '.join(KINDS)}"
            )

    @property
    def about_issues(self) -> bool:
        """Whether a condition reads the issue's current labels or assignees."""
        return bool(self.labels or self.assignees)

    def matches(self, event: Event) -> bool:
        """The event's own conditions (numbers, kinds, actors); not labels or assignees."""
        return (
            (not self.numbers or event.issue in self.numbers)
            and (not self.kinds or event.kind in self.kinds)
            and (not self.actors or event.actor in self.actors)
        )


def parse_since(text: str | None) -> tuple[str | None, datetime | None]:
    """``--since``: a cursor (as ``cursor`` gives them: digits on the local store, the forge
    form on a forge) or an instant (ISO 8601); ``(cursor, None)`` or ``(None, instant)``."""
    if text is None or not text.strip():
        return None, None
    value = text.strip()
    if value.isascii() and (value.isdigit() or value.startswith(FORGE_CURSOR_TAG)):
        return value, None
    from issue_core.core.models import parse_ts

    try:
        instant = parse_ts(value)
    except (ValidationError, ValueError):
        instant = None
    if instant is None:
        raise ValidationError(
            f"--since {text!r} is neither a cursor nor a time",
            hint="a cursor from an event's 'cursor', or e.g. 2026-12-03T10:00:00Z",
        )
    return None, instant
