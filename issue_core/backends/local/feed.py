"""The change feed and the event log: what sync and ``issue events`` read to learn what changed.

Every change of an issue takes the next value of one global ``change_seq`` counter, and nothing
but this module takes it; each change is also one row of the event log (``events``), whose
``seq`` is that ``change_seq``, written here in the same transaction -- so no command writes
an event by hand, and the log can neither miss a change nor hold one that did not happen:

- ``touch()``: an existing issue changed (its fields, labels, assignees, milestone, comments,
  a claim, or a label or milestone it carries was renamed or deleted): ``version + 1``,
  ``updated_at`` and a new ``change_seq``, with the changed columns in the same UPDATE, and
  the event (``kind``, ``data``: before/after values, the comment, the lease).
- ``created()``: values for new issues (a batch insert takes one per issue at once) and their
  ``created`` events.
- ``record_deletion()``: a deleted issue leaves a tombstone with its own ``change_seq`` and a
  ``deleted`` event.
- ``changes_since()``: issues and tombstones after a cursor, in sequence order.

Who acted is the connection's ``actor`` (the store sets it from the acting identity).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from issue_core.backends.local import counters
from issue_core.core.errors import ValidationError
from issue_core.core.interfaces import Change
from issue_core.core.models import Issue

UNKNOWN_ACTOR = "unknown"


def sequence(conn: sqlite3.Connection, count: int) -> int:
    """Take ``count`` consecutive change sequence values; returns the first."""
    return counters.take(conn, "change_seq", count)


def actor_of(conn: sqlite3.Connection) -> str:
    return getattr(conn, "actor", None) or UNKNOWN_ACTOR


def touch(
    conn: sqlite3.Connection,
    issue_ids: Sequence[int],
    now: str,
    columns: Mapping[str, Any] | None = None,
    *,
    kind: str = "edited",
    data: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Record that the issues ``issue_ids`` changed at ``now`` (each gets its own sequence
    value, in the order given), writing ``columns`` (name -> value) in the same statement, and
    one event each: ``kind`` with ``data``, by ``actor`` (default: the connection's)."""
    if not issue_ids:
        return
    first = sequence(conn, len(issue_ids))
    values = dict(columns or {})
    assignments = "".join(f"{column} = ?, " for column in values)
    conn.executemany(
        f"UPDATE issues SET {assignments}version = version + 1, updated_at = ?, change_seq = ? "
        "WHERE id = ?",
        [(*values.values(), now, first + n, issue_id) for n, issue_id in enumerate(issue_ids)],
    )
    payload = _encoded(data)
    who = actor or actor_of(conn)
    conn.executemany(
        "INSERT INTO events (seq, issue_id, number, uid, kind, actor, at, data) "
        "SELECT ?, id, number, uid, ?, ?, ?, ? FROM issues WHERE id = ?",
        [(first + n, kind, who, now, payload, issue_id) for n, issue_id in enumerate(issue_ids)],
    )


def created(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """``created`` events of new issues: ``(change_seq, issue_id, number, uid, title)`` each,
    written with the rows' own ``created_at`` left to the issues (the event's time is now)."""
    from issue_core.backends.local.timestamps import now
    from issue_core.storage.batches import insert_rows

    at, who = now(), actor_of(conn)
    insert_rows(
        conn,
        "events (seq, issue_id, number, uid, kind, actor, at, data)",
        [
            (seq, issue_id, number, uid, "created", who, at, _encoded({"title": title}))
            for seq, issue_id, number, uid, title in rows
        ],
    )


def record_deletion(
    conn: sqlite3.Connection, issue_id: int, uid: str, number: int, now: str
) -> None:
    seq = sequence(conn, 1)
    conn.execute(
        "INSERT INTO tombstones (uid, number, change_seq, deleted_at) VALUES (?, ?, ?, ?)",
        (uid, number, seq, now),
    )
    conn.execute(
        "INSERT INTO events (seq, issue_id, number, uid, kind, actor, at, data) "
        "VALUES (?, ?, ?, ?, 'deleted', ?, ?, '{}')",
        (seq, issue_id, number, uid, actor_of(conn), now),
    )


def _encoded(data: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(data or {}), ensure_ascii=False, sort_keys=True, default=str)


def changes_since(
    conn: sqlite3.Connection | None, cursor: str | None, *, limit: int
) -> tuple[list[Change], str]:
    """Changes after ``cursor`` (a change sequence value; None: from the start), at most
    ``limit``, and the cursor to continue from. ``conn`` None: no store yet, no changes."""
    try:
        after = int(cursor) if cursor else 0
    except ValueError:
        raise ValidationError(f"invalid change cursor {cursor!r}") from None
    if conn is None:
        return [], str(after)
    from issue_core.backends.local import issues

    rows = conn.execute(
        f"SELECT {issues.ISSUE_COLUMNS} FROM issues i "
        "LEFT JOIN milestones m ON m.id = i.milestone_id "
        "WHERE i.change_seq > ? ORDER BY i.change_seq LIMIT ?",
        (after, limit),
    ).fetchall()
    changes = [
        Change(issue, str(row["change_seq"]))
        for issue, row in zip(issues.hydrate(conn, rows), rows, strict=True)
    ]
    tombstones = conn.execute(
        "SELECT uid, number, change_seq FROM tombstones WHERE change_seq > ? "
        "ORDER BY change_seq LIMIT ?",
        (after, limit),
    ).fetchall()
    for tomb in tombstones:
        gone = Issue(title="(deleted)", number=tomb["number"], id=tomb["uid"])
        changes.append(Change(gone, str(tomb["change_seq"]), deleted=True))
    changes.sort(key=lambda change: int(change.cursor))
    changes = changes[:limit]
    return changes, changes[-1].cursor if changes else str(after)
