"""Reading the local store's event log (feed.py writes it, in the transaction of each change)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from issue_core.backends.local.timestamps import stored_ts
from issue_core.core.events import Event

if TYPE_CHECKING:
    from issue_core.core.events import EventFilter

# The issue's labels and assignees as they are now (events.issue_id is issues.id; a deleted
# issue has neither, so it matches no such condition).
_HAS_LABEL = (
    "EXISTS (SELECT 1 FROM issue_labels il JOIN labels l ON l.id = il.label_id "
    "WHERE il.issue_id = events.issue_id AND l.name_key = ?)"
)
_HAS_ASSIGNEE = (
    "EXISTS (SELECT 1 FROM issue_assignees ia "
    "WHERE ia.issue_id = events.issue_id AND ia.username = ?)"
)


def read(
    conn: sqlite3.Connection | None,
    *,
    number: int | None,
    after: int,
    since: datetime | None,
    limit: int,
    until: int | None = None,
    wanted: EventFilter | None = None,
) -> list[Event]:
    """Events after the cursor ``after`` up to ``until`` (and at or after ``since``) that
    ``wanted`` matches, oldest first."""
    if conn is None:
        return []
    where: list[str] = ["seq > ?"]
    params: list[object] = [after]
    if until is not None:
        where.append("seq <= ?")
        params.append(until)
    numbers = [number] if number is not None else list(wanted.numbers if wanted else ())
    if numbers:
        where.append(f"number IN ({', '.join('?' * len(numbers))})")
        params.extend(numbers)
    if since is not None:
        where.append("at >= ?")
        params.append(stored_ts(since))
    if wanted is not None:
        for column, values in (("kind", wanted.kinds), ("actor", wanted.actors)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        where.extend(_HAS_LABEL for _ in wanted.labels)
        params.extend(label.lower() for label in wanted.labels)
        if wanted.assignees:
            where.append(f"({' OR '.join(_HAS_ASSIGNEE for _ in wanted.assignees)})")
            params.extend(wanted.assignees)
    rows = conn.execute(
        "SELECT seq, number, uid, kind, actor, at, data FROM events "
        f"WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [
        Event(str(seq), issue, kind, actor, _short(at), json.loads(data), uid)
        for seq, issue, uid, kind, actor, at, data in rows
    ]


def latest(conn: sqlite3.Connection | None) -> int:
    """The newest event's sequence value (0: none yet); the primary key's last entry."""
    if conn is None:
        return 0
    row = conn.execute("SELECT max(seq) FROM events").fetchone()
    return int(row[0] or 0)


def _short(at: str) -> str:
    """Output keeps the short form of an instant, as everywhere (no ``.000000``)."""
    return at.replace(".000000Z", "Z")
