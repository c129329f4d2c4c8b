"""The change feed: what sync (and later the event log) reads to learn what changed.

Every change of an issue takes the next value of one global ``change_seq`` counter, and nothing
but this module takes it:

- ``touch()``: an existing issue changed (its fields, labels, assignees, milestone, comments,
  or a label or milestone it carries was renamed or deleted): ``version + 1``, ``updated_at``
  and a new ``change_seq``, with the changed columns in the same UPDATE. The one place where
  "this issue changed" is written, so the coordination issue's event log hooks in here.
- ``sequence()``: values for new issues (a batch insert takes one per issue at once).
- ``record_deletion()``: a deleted issue leaves a tombstone with its own ``change_seq``.
- ``changes_since()``: issues and tombstones after a cursor, in sequence order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from issue_core.backends.local import counters
from issue_core.core.errors import ValidationError
from issue_core.core.interfaces import Change
from issue_core.core.models import Issue


def sequence(conn: sqlite3.Connection, count: int) -> int:
    """Take ``count`` consecutive change sequence values; returns the first."""
    return counters.take(conn, "change_seq", count)


def touch(
    conn: sqlite3.Connection,
    issue_ids: Sequence[int],
    now: str,
    columns: Mapping[str, Any] | None = None,
) -> None:
    """Record that the issues ``issue_ids`` changed at ``now`` (each gets its own sequence
    value, in the order given), writing ``columns`` (name -> value) in the same statement."""
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


def record_deletion(conn: sqlite3.Connection, uid: str, number: int, now: str) -> None:
    conn.execute(
        "INSERT INTO tombstones (uid, number, change_seq, deleted_at) VALUES (?, ?, ?, ?)",
        (uid, number, sequence(conn, 1), now),
    )


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
