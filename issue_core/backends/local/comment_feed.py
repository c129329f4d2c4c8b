"""The local store's comment feed and its whole-store reads, for sync.

Every comment added, edited or deleted is an event of its issue (``commented``,
``comment_edited``, ``comment_deleted``, written by ``comments`` through ``feed.touch`` in the
change's transaction), so the feed is the event log read for those kinds: its cursor is an
event ``seq`` (the same counter as the issue feed's), exact, with no clock involved. A comment
changed several times within one batch is reported once, as it is now, at its last event; a
comment whose row is gone (deleted, or its issue deleted) is reported ``deleted``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from issue_core.backends.local import comments
from issue_core.core.errors import ValidationError
from issue_core.core.interfaces import CommentChange
from issue_core.core.models import Comment

COMMENT_EVENTS = ("commented", "comment_edited", "comment_deleted")


def parse_cursor(cursor: str | None) -> int:
    try:
        return int(cursor) if cursor else 0
    except ValueError:
        raise ValidationError(f"invalid comment cursor {cursor!r}") from None


def current_cursor(conn: sqlite3.Connection | None) -> str:
    """The cursor of the latest change (issue or comment): both feeds continue from it."""
    if conn is None:
        return "0"
    row = conn.execute("SELECT value FROM counters WHERE name = 'change_seq'").fetchone()
    return str(row[0] if row is not None else 0)


def comments_since(
    conn: sqlite3.Connection | None, cursor: str | None, *, limit: int
) -> tuple[list[CommentChange], str]:
    after = parse_cursor(cursor)
    if conn is None:
        return [], str(after)
    marks = ", ".join("?" for _ in COMMENT_EVENTS)
    events = conn.execute(
        f"SELECT seq, number, uid, data FROM events WHERE seq > ? AND kind IN ({marks}) "
        "ORDER BY seq LIMIT ?",
        (after, *COMMENT_EVENTS, limit),
    ).fetchall()
    if not events:
        return [], str(after)
    # The last event of each comment: where it is reported, as it is now.
    last: dict[int, tuple[int, int, str]] = {}
    for seq, number, uid, data in events:
        comment_id = int(json.loads(data)["comment_id"])
        last.pop(comment_id, None)  # re-inserted: dict order becomes last-event order
        last[comment_id] = (seq, number, uid)
    rows = _rows(conn, list(last))
    changes = []
    for comment_id, (seq, number, uid) in last.items():
        row = rows.get(comment_id)
        if row is None:
            gone = Comment(body="", id=str(comment_id), issue_number=number)
            changes.append(_change(gone, number, uid, seq, deleted=True))
        else:
            changes.append(_change(comments.from_row(row, number), number, uid, seq))
    return changes, str(events[-1][0])


def _change(
    comment: Comment, number: int, uid: str, seq: int, *, deleted: bool = False
) -> CommentChange:
    return CommentChange(
        comment, issue_number=number, issue_id=uid, cursor=str(seq), deleted=deleted
    )


def _rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, sqlite3.Row]:
    from issue_core.storage.batches import chunks

    found: dict[int, sqlite3.Row] = {}
    for part in chunks(conn, ids, 1):
        marks = ", ".join("?" for _ in part)
        for row in conn.execute(
            f"SELECT {comments.COLUMNS} FROM comments WHERE id IN ({marks})", part
        ):
            found[int(row["id"])] = row
    return found


def all_comments(conn: sqlite3.Connection | None) -> Iterator[Comment]:
    """Every comment of the store, by issue number then id (one query)."""
    if conn is None:
        return
    prefixed = ", ".join(f"c.{column.strip()}" for column in comments.COLUMNS.split(","))
    for row in conn.execute(
        f"SELECT {prefixed}, i.number FROM comments c JOIN issues i ON i.id = c.issue_id "
        "ORDER BY i.number, c.id"
    ):
        yield comments.from_row(row, int(row["number"]))
