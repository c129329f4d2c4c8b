"""A forge's issue history as the event log's records (``core.events.Event``), and its cursor.

Every forge keeps some history of an issue (Gitea's timeline, GitHub's timeline and issue
events, GitLab's resource events and system notes). A forge's backend reads it into
``ForgeItem`` values -- one per change, each with a key unique within the repository, the
forge's own time of it, and the ``Event`` kind and data -- and this module turns them into
events with cursors. The kinds and their ``data`` are the local store's (AGENT_INTEGRATION.md,
"Events"); the helpers below build the ones every forge shares (created, commented and
comment_edited, the claim markers of ``forge.leases``, labels, assignees, state, title).

**The cursor** (``EventPosition``; opaque text ``fe1.<base64url JSON>``) never relies on this
machine's clock, nor on the forge's ids being ordered across its tables (GitHub's comments and
issue events are numbered apart), nor on an event being visible the moment it is stamped
(forges write their history after the change, and a request stamped at second *t* may commit
after another's *t + 1*). It holds:

- ``floor``: the forge time below which nothing is read again (``None``: the beginning);
- ``seen``: the key and time of every item at or after ``floor`` already delivered.

An item is new when its time is at or after ``floor`` and its key is not in ``seen``. After
each delivered item, ``floor`` moves up to ``OVERLAP`` before the newest time delivered and
the keys older than it are dropped. So each read re-reads the last ``OVERLAP`` of history
(the forges' ``since`` filters are inclusive and to the second) and skips what it delivered:
an item that shows up late, stamped up to ``OVERLAP`` before the newest one delivered, is
still delivered once, and none is ever delivered twice. An item that becomes visible more than
``OVERLAP`` after a later one was delivered would be missed: no forge is that late in practice.
The cursor names the backend and repository it was made for (a short digest), so another's
is refused (exit 2), never silently misread.

A cursor of ``"0"`` is the beginning on every backend (as on the local store).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from issue_core.backends.forge import leases
from issue_core.backends.forge.body import AGENT_KEY, split_body
from issue_core.backends.forge.fields import timestamp
from issue_core.core.errors import ValidationError
from issue_core.core.events import FORGE_CURSOR_TAG, Event
from issue_core.core.models import format_ts

# How far back each read looks again for items that became visible late (see the docstring).
OVERLAP = timedelta(seconds=60)

_VERSION = 1


@dataclass(frozen=True)
class ForgeItem:
    """One change as a forge records it, mapped to an event's kind and data.

    ``key`` is unique within the repository and stable across reads (a forge's own id with a
    prefix per table, e.g. ``c123`` for comment 123; an edit of a comment adds its time)."""

    key: str
    at: datetime
    number: int
    kind: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    issue_id: str | None = None

    @property
    def order(self) -> tuple[datetime, int, str]:
        """By the forge's time; within a second the issue's creation first, then by the
        forge's id (the digits of the key: each table numbers in the order it writes)."""
        if self.kind == "created":
            return (self.at, -1, self.key)
        digits = "".join(ch for ch in self.key.partition("@")[0] if ch.isdigit())
        return (self.at, int(digits or 0), self.key)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def scope_of(backend_type: str, where: str) -> str:
    """The short digest a cursor carries of the backend and repository it was made for."""
    return hashlib.sha256(f"{backend_type}\0{where}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class EventPosition:
    """Where a reader of a forge's events stands (see the module docstring)."""

    scope: str
    floor: datetime | None = None
    seen: tuple[tuple[str, datetime], ...] = ()

    # -- text ------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | None, *, scope: str, kind: str) -> EventPosition:
        """``text``: a cursor of this backend (``scope``), ``"0"`` or nothing (the beginning);
        ``kind`` (the backend type) names it in the error for a foreign or garbled cursor."""
        value = (text or "").strip()
        if not value or value == "0":
            return cls(scope)
        if not value.startswith(FORGE_CURSOR_TAG):
            raise ValidationError(
                f"cursor {value!r} is not a {kind} event cursor",
                hint="pass back the 'cursor' of an event this backend printed",
            )
        try:
            padded = value[len(FORGE_CURSOR_TAG) :] + "=" * (-len(value) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            version, owner, floor, pairs = data
            if version != _VERSION or not isinstance(owner, str):
                raise ValueError(version)
            base = _moment(float(floor)) if floor is not None else None
            seen = tuple(
                (str(key), _moment(float(floor or 0) + float(offset))) for key, offset in pairs
            )
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
            raise ValidationError(
                f"invalid {kind} event cursor {value[:40]!r}",
                hint="pass back the 'cursor' of an event this backend printed",
            ) from None
        if owner != scope:
            raise ValidationError(
                f"the cursor {value[:40]!r} is of another backend or repository",
                hint="a cursor is only good on the repository whose events printed it",
            )
        return cls(scope, base, seen)

    @classmethod
    def at_time(cls, scope: str, instant: datetime) -> EventPosition:
        """Before everything at or after ``instant`` (``--since TIME``)."""
        return cls(scope, instant)

    def format(self) -> str:
        base = _epoch(self.floor) if self.floor is not None else None
        pairs = [[key, _compact(_epoch(at) - (base or 0))] for key, at in self.seen]
        data = [_VERSION, self.scope, _compact(base) if base is not None else None, pairs]
        raw = json.dumps(data, separators=(",", ":")).encode()
        return FORGE_CURSOR_TAG + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    # -- reading -----------------------------------------------------------------------------------

    @property
    def newest(self) -> datetime | None:
        """The newest time delivered (or the floor, when nothing was)."""
        return max((at for _, at in self.seen), default=self.floor)

    def is_new(self, item: ForgeItem) -> bool:
        if self.floor is not None and item.at < self.floor:
            return False
        return all(key != item.key for key, _ in self.seen)

    def after(self, item: ForgeItem) -> EventPosition:
        """The position once ``item`` is delivered."""
        seen = (*self.seen, (item.key, item.at))
        newest = max(at for _, at in seen)
        floor = newest - OVERLAP
        if self.floor is not None and self.floor > floor:
            floor = self.floor
        return EventPosition(self.scope, floor, tuple(p for p in seen if p[1] >= floor))

    def covering(self, items: Iterable[ForgeItem]) -> EventPosition:
        """The position once every one of ``items`` is delivered (the head of a stream)."""
        position = self
        for item in sorted(items, key=lambda i: i.order):
            if position.is_new(item):
                position = position.after(item)
        return position


def _compact(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


def new_events(
    items: Iterable[ForgeItem],
    position: EventPosition,
    *,
    limit: int,
    until: EventPosition | None = None,
) -> list[Event]:
    """The items new after ``position`` (and, with ``until``, already covered by it), oldest
    first, as events whose cursors each continue after that event."""
    chosen = sorted({i.key: i for i in items if position.is_new(i)}.values(), key=lambda i: i.order)
    if until is not None:
        chosen = [i for i in chosen if not until.is_new(i)]
    found: list[Event] = []
    for item in chosen[: max(0, limit)]:
        position = position.after(item)
        at = format_ts(item.at) or ""
        found.append(
            Event(
                position.format(), item.number, item.kind, item.actor, at, item.data, item.issue_id
            )
        )
    return found


# -- mapping helpers every forge shares --------------------------------------------------------


def login_of(user: Any) -> str:
    """A forge user object's login ("ghost" when the forge sends none: a deleted account)."""
    if isinstance(user, Mapping):
        for name in ("login", "username"):
            value = user.get(name)
            if isinstance(value, str) and value:
                return value
    return "ghost"


def created_item(
    number: int, issue_id: str | None, at: datetime, actor: str, title: str
) -> ForgeItem:
    return ForgeItem(
        f"i{issue_id or number}", at, number, "created", actor, {"title": title}, issue_id
    )


def created_of(
    raw: Mapping[str, Any], number: int, *, body_key: str = "body", user_key: str = "user"
) -> ForgeItem | None:
    """An issue's ``created`` event from its wire JSON (the agent its body's block names,
    else its author; the forge's names of the body and the author)."""
    at = timestamp(raw.get("created_at"))
    if at is None:
        return None
    actor = agent_or(raw.get(body_key), login_of(raw.get(user_key)))
    ident = raw.get("id")
    issue_id = str(ident) if ident is not None else None
    return created_item(number, issue_id, at, actor, str(raw.get("title") or ""))


def with_original_title(items: list[ForgeItem]) -> list[ForgeItem]:
    """A forge shows an issue's title as it is now: each ``created`` event gets the title its
    issue was created with, the ``before`` of its earliest rename when one is among ``items``."""
    first: dict[int, Any] = {}
    for item in sorted(items, key=lambda i: i.order, reverse=True):
        title = item.data.get("changes", {}).get("title") if item.kind == "edited" else None
        if isinstance(title, dict):
            first[item.number] = title.get("before")
    return [
        replace(i, data={**i.data, "title": first[i.number]})
        if i.kind == "created" and i.number in first
        else i
        for i in items
    ]


def agent_or(body: Any, fallback: str) -> str:
    """The agent a body's hidden block names (``forge.body``: issue-core signs what an agent
    writes), else ``fallback`` (the forge user)."""
    _, data, _ = split_body(body if isinstance(body, str) else "")
    agent = data.get(AGENT_KEY)
    return agent if isinstance(agent, str) and agent else fallback


def comment_items(
    raw: Mapping[str, Any], number: int, issue_id: str | None = None, *, prefix: str = "c"
) -> list[ForgeItem]:
    """A comment as events: a claim marker (``forge.leases``) is its ``claimed``,
    ``heartbeat`` or ``released``; any other comment is ``commented`` by the agent it names
    (``forge.body``) or its author, plus ``comment_edited`` at its last edit when it has one."""
    ident = raw.get("id")
    created = timestamp(raw.get("created_at"))
    if ident is None or created is None:
        return []
    author = login_of(raw.get("user") or raw.get("author"))
    marker = leases.parse_marker(raw)
    if marker is not None:
        return [_marker_item(marker, number, issue_id, prefix)]
    text, _, _ = split_body(raw.get("body") if isinstance(raw.get("body"), str) else "")
    actor = agent_or(raw.get("body"), author)
    payload = {"comment_id": str(ident), "body": text}
    items = [ForgeItem(f"{prefix}{ident}", created, number, "commented", actor, payload, issue_id)]
    updated = timestamp(raw.get("updated_at"))
    if updated is not None and updated > created:
        key = f"{prefix}{ident}@{int(_epoch(updated))}"
        items.append(ForgeItem(key, updated, number, "comment_edited", actor, payload, issue_id))
    return items


_MARKER_KINDS = {"claim": "claimed", "heartbeat": "heartbeat", "release": "released"}


def _marker_item(
    marker: leases.Marker, number: int, issue_id: str | None, prefix: str
) -> ForgeItem:
    data: dict[str, Any] = {"holder": marker.agent, "lease": marker.lease, "forced": marker.forced}
    if marker.op != "release":
        data["expires_at"] = leases.shown(marker.at + timedelta(seconds=marker.ttl_s))
    kind = _MARKER_KINDS[marker.op]
    return ForgeItem(
        f"{prefix}{marker.note_id}", marker.at, number, kind, marker.agent, data, issue_id
    )


def change(field_name: str, before: Any, after: Any) -> dict[str, Any]:
    """``data`` of an edit: ``{"changes": {field: {"before", "after"}}}`` (the local shape)."""
    return {"changes": {field_name: {"before": before, "after": after}}}


def labels_change(name: str, *, added: bool) -> dict[str, Any]:
    """``data`` of one label added or removed (a forge records one label at a time)."""
    return {"changes": {"labels": {"added" if added else "removed": [name]}}}


def assignees_change(login: str, *, added: bool) -> dict[str, Any]:
    return {"changes": {"assignees": {"added" if added else "removed": [login]}}}


def state_change(after: str, reason: str | None = None) -> dict[str, Any]:
    before = "open" if after == "closed" else "closed"
    data = change("state", before, after)
    if reason:
        data["changes"]["close_reason"] = {"before": None, "after": reason}
    return data


def link_change(kind: str, source: int, target: int) -> dict[str, Any]:
    """``data`` of a dependency (``linked``/``unlinked``): ``source`` blocks ``target``."""
    return {"kind": kind, "source": source, "target": target}
